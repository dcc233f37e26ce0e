//! The application state handlers share, and its parts.
//!
//! It lives here rather than in the router so that nothing that needs a
//! part of it imports the router: handlers take only the part they need
//! (`State<Store>`, `State<Arc<SnapshotHolder>>`, ...) through `FromRef`.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::metrics::Metrics;
use crate::status::live::LiveHandle;
use crate::status::snapshot::SnapshotHolder;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub snapshot: Arc<SnapshotHolder>,
    pub metrics: Metrics,
    pub leptos_options: LeptosOptions,
    pub live: LiveHandle,
    pub mail: MailDomain,
    pub cookies: CookiePolicy,
    /// What this node's newest preview learned, for what-if pricing.
    pub what_if: crate::compensation::what_if::WhatIfCache,
    /// Which addresses outgoing requests may reach.
    pub outgoing: crate::kernel::outgoing::OutgoingPolicy,
    /// Which security headers responses get.
    pub security: crate::web::security_headers::SecurityPolicy,
    /// Whose `X-Forwarded-For` names the client.
    pub trusted_proxy: crate::kernel::client::TrustedProxy,
    /// Public writes per client, counted in memory.
    pub public_writes: crate::kernel::public_writes::PublicWrites,
}

/// Staff cookies get `Secure` when Plaster is reached over HTTPS.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    pub secure: bool,
}

/// The domain of Message-IDs (the sender's).
#[derive(Debug, Clone)]
pub struct MailDomain(pub String);

macro_rules! part {
    ($ty:ty, $field:ident) => {
        impl FromRef<AppState> for $ty {
            fn from_ref(state: &AppState) -> Self {
                state.$field.clone()
            }
        }
    };
}

part!(Store, store);
part!(Arc<SnapshotHolder>, snapshot);
part!(Metrics, metrics);
part!(LeptosOptions, leptos_options);
part!(LiveHandle, live);
part!(MailDomain, mail);
part!(CookiePolicy, cookies);
part!(crate::compensation::what_if::WhatIfCache, what_if);
part!(crate::kernel::outgoing::OutgoingPolicy, outgoing);
part!(crate::kernel::client::TrustedProxy, trusted_proxy);
part!(crate::kernel::public_writes::PublicWrites, public_writes);
