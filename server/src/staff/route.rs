//! One staff route and the console menu derived from the route table.
//!
//! Every domain exports its console routes as a list of [`StaffRoute`];
//! `staff::routes()` joins them, and the router, the role-matrix test and the
//! menu are all built from that one list, so none can drift from the others.

use std::sync::Arc;

use axum::http::Method;
use axum::routing::MethodRouter;

use crate::staff::roles::{Access, Roles};
use crate::state::AppState;

/// One staff route: method, path (axum syntax), who may use it, handler,
/// and the menu label of the page it opens, if it has a place in the menu.
pub struct StaffRoute {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub handler: MethodRouter<AppState>,
    pub menu: Option<&'static str>,
    /// Takes file uploads (multipart, streamed; see `staff::upload`).
    pub uploads: bool,
    /// Hands out access: the member confirms it is them again first
    /// (see `staff::step_up`).
    pub step_up: bool,
}

pub fn route(
    method: Method,
    path: &'static str,
    access: Access,
    handler: MethodRouter<AppState>,
) -> StaffRoute {
    StaffRoute {
        method,
        path,
        access,
        handler,
        menu: None,
        uploads: false,
        step_up: false,
    }
}

impl StaffRoute {
    /// This POST takes file uploads: its body is streamed to the handler
    /// (no size limit of forms) and the CSRF token is its first field.
    pub fn uploads(mut self) -> StaffRoute {
        self.uploads = true;
        self
    }

    /// This POST hands out access: the guard asks for a step-up first.
    pub fn step_up(mut self) -> StaffRoute {
        self.step_up = true;
        self
    }

    /// Puts the page this GET opens in the console menu.
    pub fn in_menu(mut self, label: &'static str) -> StaffRoute {
        self.menu = Some(label);
        self
    }
}

/// A menu entry: a page and who may open it.
#[derive(Debug, Clone)]
pub struct MenuEntry {
    pub href: &'static str,
    pub label: &'static str,
    pub access: Access,
}

/// The console menu, in route-table order.
#[derive(Debug, Clone, Default)]
pub struct Menu(Arc<Vec<MenuEntry>>);

impl Menu {
    pub fn from_routes(routes: &[StaffRoute]) -> Menu {
        Menu(Arc::new(
            routes
                .iter()
                .filter_map(|r| {
                    r.menu.map(|label| MenuEntry {
                        href: r.path,
                        label,
                        access: r.access,
                    })
                })
                .collect(),
        ))
    }

    /// The entries these roles may open.
    pub fn for_roles<'a>(&'a self, roles: &'a Roles) -> impl Iterator<Item = &'a MenuEntry> + 'a {
        self.0.iter().filter(move |e| e.access.allows(roles))
    }
}
