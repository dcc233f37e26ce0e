//! The notification side of the staff console: Sent mail and webhooks.

pub mod mail;
pub mod masking;
pub mod webhooks;

use axum::http::Method;
use axum::routing::{get, post};

use crate::staff::roles::{ADMIN, COMPONENTS_VIEW};
use crate::staff::route::{route, StaffRoute};

#[rustfmt::skip]
pub fn routes() -> Vec<StaffRoute> {
    use Method as M;
    vec![
        // Sent mail: whoever publishes or administers.
        route(M::GET, "/staff/mail", COMPONENTS_VIEW, get(mail::list)).in_menu("Sent mail"),
        route(M::GET, "/staff/mail/templates", COMPONENTS_VIEW, get(mail::templates)),
        route(M::GET, "/staff/mail/{id}", COMPONENTS_VIEW, get(mail::show)),
        // Webhooks: admins.
        route(M::GET, "/staff/webhooks", ADMIN, get(webhooks::list)).in_menu("Webhooks"),
        route(M::POST, "/staff/webhooks", ADMIN, post(webhooks::add)).step_up(),
        route(M::POST, "/staff/webhooks/{id}", ADMIN, post(webhooks::edit)),
    ]
}
