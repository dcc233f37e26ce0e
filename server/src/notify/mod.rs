//! Notifications: e-mail that is never lost and never doubled.
//!
//! Code that wants a message sent inserts it into the `outbox` table in the
//! same transaction as the change that causes it
//! ([`crate::store::outbox::enqueue`]).
//! Status changes reach subscribers the same way one step later: every
//! change already leaves a `status_changes` row in its own transaction, and
//! the fan-out task turns new rows into outbox messages with ids derived
//! from the change and the subscriber, moving its cursor in the same
//! transaction, so a crash in between repeats work without doubling it.
//! Delivery workers claim due messages, send them (SMTP or the embedded
//! mailbox), and retry with backoff until a message is too old.

pub mod bench;
pub mod console;
pub mod email;
pub mod mailer;
pub mod subscribe_pages;
pub mod subscribers;
pub mod webhooks;
pub mod workers;

use axum::routing::get;
use axum::Router;

use crate::state::AppState;

pub use mailer::SEND_CONCURRENCY;
pub use workers::{fan_out, spawn, FanOutError, GIVE_UP_AFTER_MS};

/// The public subscription pages (the staff ones are in [`console`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/subscribe",
            get(subscribe_pages::form).post(subscribe_pages::submit),
        )
        .route(
            "/subscribe/confirm",
            get(subscribe_pages::confirm_page).post(subscribe_pages::confirm),
        )
        .route(
            "/unsubscribe",
            get(subscribe_pages::unsubscribe_page).post(subscribe_pages::unsubscribe),
        )
        .route(
            "/subscriptions",
            get(subscribe_pages::manage_page).post(subscribe_pages::manage),
        )
        // A form of an address, a language and a few components: 64 KiB is
        // far more than it needs, and far less than the 2 MiB default.
        .layer(axum::extract::DefaultBodyLimit::max(PUBLIC_FORM_BYTES))
}

/// The largest body the public subscription forms take.
pub const PUBLIC_FORM_BYTES: usize = 64 * 1024;
