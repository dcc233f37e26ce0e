//! Integration tests: the real server on port 0, over HTTP, on SQLite and on
//! PostgreSQL. Each test is written once and run on both backends.

mod fixtures;
mod helpers;

mod claims;
mod cli;
mod compensation;
mod csrf;
mod customers;
mod duties;
mod health;
mod leases_and_limits;
mod ledger;
mod live;
mod notify;
mod pages;
mod second_factor;
mod staff;
mod status_page;
mod statuspage_api;
mod subscribe_limits;
mod two_people;
