//! The status side of the staff console: incidents and their updates,
//! apologies, maintenance, message templates, components.

pub mod apology;
pub mod components;
pub mod incidents;
pub mod maintenance;

use axum::http::Method;
use axum::routing::{get, post};

use crate::staff::roles::{ADMIN, COMMUNICATIONS, COMPONENTS_VIEW};
use crate::staff::route::{route, StaffRoute};

#[rustfmt::skip]
pub fn routes() -> Vec<StaffRoute> {
    use Method as M;
    vec![
        // Incidents, apologies, maintenance, templates: communications.
        route(M::GET, "/staff/incidents", COMMUNICATIONS, get(incidents::list)).in_menu("Incidents"),
        route(M::GET, "/staff/incidents/new", COMMUNICATIONS, get(incidents::new_form)),
        route(M::POST, "/staff/incidents", COMMUNICATIONS, post(incidents::open)),
        route(M::GET, "/staff/incidents/{id}", COMMUNICATIONS, get(incidents::show)),
        route(M::POST, "/staff/incidents/{id}/updates", COMMUNICATIONS, post(incidents::post_update)),
        route(M::GET, "/staff/incidents/{id}/apology", COMMUNICATIONS, get(apology::form)),
        route(M::POST, "/staff/incidents/{id}/apology", COMMUNICATIONS, post(apology::submit)),
        route(M::GET, "/staff/maintenance", COMMUNICATIONS, get(maintenance::list)),
        route(M::POST, "/staff/maintenance", COMMUNICATIONS, post(maintenance::submit)),
        route(M::GET, "/staff/templates", COMMUNICATIONS, get(incidents::templates)),
        route(M::POST, "/staff/templates", COMMUNICATIONS, post(incidents::save_template)),
        // Components: statuses for communications, the rest for admins.
        route(M::GET, "/staff/components", COMPONENTS_VIEW, get(components::list)).in_menu("Components"),
        route(M::POST, "/staff/components", ADMIN, post(components::add)),
        route(M::POST, "/staff/components/{id}/status", COMMUNICATIONS, post(components::set_status)),
        route(M::POST, "/staff/components/{id}", ADMIN, post(components::edit)),
    ]
}
