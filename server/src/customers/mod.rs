//! The operator's customers: their records and subscriptions, imported by
//! finance from the files the engine reads (`import`), and the console page
//! that shows and imports them (`console`).

pub mod console;
pub mod demo;
pub mod import;
