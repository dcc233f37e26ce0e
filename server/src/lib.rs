//! The Plaster server, arranged by domain (see docs/architecture.md):
//! `kernel` leaves, the one `store`, the domains (`status`, `notify`,
//! `staff`), the HTTP edge (`web`), and the process around them.

pub mod claims;
pub mod cli;
pub mod compensation;
pub mod config;
pub mod customers;
pub mod kernel;
pub mod ledger;
pub mod metrics;
pub mod notify;
pub mod staff;
pub mod startup;
pub mod state;
pub mod status;
pub mod store;
pub mod telemetry;
pub mod web;
