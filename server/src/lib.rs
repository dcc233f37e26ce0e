//! The Plaster server: storage, snapshot, HTTP, CLI commands.

pub mod audit;
pub mod auth;
pub mod compensation;
pub mod config;
pub mod demo;
pub mod email;
pub mod http;
pub mod ids;
pub mod live;
pub mod markdown;
pub mod metrics;
pub mod notify;
pub mod public;
pub mod snapshot;
pub mod staff;
pub mod startup;
pub mod status_view;
pub mod status_writes;
pub mod store;
pub mod telemetry;
