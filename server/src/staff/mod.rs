//! The staff console shell: sign-in, sessions, roles, accounts, the audit
//! log, and the one route table every console page is registered in.
//!
//! Why not Leptos components like the public page: staff use the console
//! during an outage, often on a phone on a poor connection. Plain forms work
//! the moment the HTML arrives (no wasm bundle to wait for), every action is
//! a POST that carries its CSRF token, and every route is registered once,
//! with its access rule. Each domain exports its console routes; [`routes`]
//! joins them, and the router, the role-matrix test and the menu are all
//! built from that list, so no route can be added without a rule.

pub mod accounts;
pub mod audit_pages;
pub mod code_check;
pub mod error;
pub mod guard;
pub mod login;
pub mod page;
pub mod password;
pub mod roles;
pub mod route;
pub mod session;
pub mod step_up;
pub mod totp;
pub mod two_factor;
pub mod upload;

use axum::http::Method;
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;
use guard::{guard, GuardState};
use roles::{Access, ADMIN};
use route::{route, Menu, StaffRoute};

pub use error::StaffError;
pub use guard::REFUSED_HEADER;

/// Every staff route, in menu order. Domains add theirs in their own
/// `console::routes()`; nothing registers a staff route anywhere else.
pub fn routes() -> Vec<StaffRoute> {
    let mut all = shell_routes();
    all.extend(crate::status::console::routes());
    all.extend(admin_routes());
    all.extend(crate::notify::console::routes());
    all.extend(crate::customers::console::routes());
    all.extend(crate::compensation::console::routes());
    all.extend(crate::claims::console::routes());
    all
}

#[rustfmt::skip]
fn shell_routes() -> Vec<StaffRoute> {
    use Method as M;
    vec![
        route(M::GET, "/staff/login", Access::Public, get(login::form)),
        route(M::POST, "/staff/login", Access::Public, post(login::submit)),
        route(M::POST, "/staff/logout", Access::AnyStaff, post(login::logout)),
        route(M::GET, "/staff", Access::AnyStaff, get(login::dashboard)).in_menu("Overview"),
        route(M::GET, "/staff/login/code", Access::Public, get(two_factor::code_form)),
        route(M::POST, "/staff/login/code", Access::Public, post(two_factor::code_submit)),
        route(M::GET, "/staff/password", Access::AnyStaff, get(login::password_form)),
        route(M::POST, "/staff/password", Access::AnyStaff, post(login::password_submit)),
        route(M::GET, "/staff/two-factor", Access::AnyStaff, get(two_factor::form)),
        route(M::POST, "/staff/two-factor", Access::AnyStaff, post(two_factor::submit)),
        route(M::POST, "/staff/step-up", Access::AnyStaff, post(step_up::submit)),
    ]
}

/// Accounts and the audit log: admins.
#[rustfmt::skip]
fn admin_routes() -> Vec<StaffRoute> {
    use Method as M;
    vec![
        route(M::GET, "/staff/accounts", ADMIN, get(accounts::list)).in_menu("Accounts"),
        route(M::POST, "/staff/accounts", ADMIN, post(accounts::add)).step_up(),
        route(M::POST, "/staff/accounts/{id}", ADMIN, post(accounts::edit)).step_up(),
        route(M::POST, "/staff/accounts/requests/{id}", ADMIN, post(accounts::decide_request)).step_up(),
        route(M::GET, "/staff/audit", ADMIN, get(audit_pages::list)).in_menu("Audit log"),
        route(M::GET, "/staff/audit.csv", ADMIN, get(audit_pages::csv)),
    ]
}

/// The staff routes, each behind its access rule.
pub fn router(state: &AppState) -> Router<AppState> {
    let routes = routes();
    let menu = Menu::from_routes(&routes);
    let mut router = Router::new();
    for r in routes {
        let handler = if r.uploads {
            r.handler.layer(axum::extract::DefaultBodyLimit::max(
                upload::MAX_UPLOAD_BYTES,
            ))
        } else {
            r.handler
        };
        let guarded = handler.route_layer(axum::middleware::from_fn_with_state(
            GuardState {
                store: state.store.clone(),
                access: r.access,
                menu: menu.clone(),
                uploads: r.uploads,
                step_up: r.step_up,
                secure_cookies: state.cookies.secure,
            },
            guard,
        ));
        router = router.route(r.path, guarded);
    }
    router
}
