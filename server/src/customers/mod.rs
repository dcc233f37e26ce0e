//! The operator's customers: their records and subscriptions, imported by
//! finance from the files the engine reads (`import`), the console page
//! that shows and imports them (`console`), and the customers' own pages:
//! sign-in by e-mail link (`sign_in`), "my compensation" (`me`, rendered by
//! the app), the claim form and data download (`pages`).

pub mod console;
pub mod demo;
pub mod evidence;
pub mod import;
pub mod me;
pub mod pages;
pub mod sign_in;
