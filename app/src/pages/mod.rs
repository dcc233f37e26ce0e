pub mod common;
pub mod history;
pub mod incident;
pub mod me;
pub mod status;
