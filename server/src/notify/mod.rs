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
            "/subscriptions",
            get(subscribe_pages::manage_page).post(subscribe_pages::manage),
        )
        // Every form above must come from this site's own page.
        .route_layer(axum::middleware::from_fn(
            crate::kernel::origin::refuse_cross_site,
        ))
        // Added after the layer, so not behind it: RFC 8058's one-click
        // unsubscribe (the same POST as the page's button) comes from the
        // mail provider, its server or its web mail on its own site, not
        // from our page. The token in the URL is the authority, and a forged
        // request could only stop mail, never start it.
        .route(
            "/unsubscribe",
            get(subscribe_pages::unsubscribe_page).post(subscribe_pages::unsubscribe),
        )
        // A form of an address, a language and a few components: 64 KiB is
        // far more than it needs, and far less than the 2 MiB default.
        .layer(axum::extract::DefaultBodyLimit::max(PUBLIC_FORM_BYTES))
}

/// The largest body the public subscription forms take.
pub const PUBLIC_FORM_BYTES: usize = 64 * 1024;
