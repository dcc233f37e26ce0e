//! Building and running the application: open and migrate the database,
//! seed the demo, build the first snapshot, bind, serve.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use leptos::config::Env;
use leptos::prelude::LeptosOptions;
use tokio::net::TcpListener;

use crate::auth::{ensure_first_admin, AuthError, FirstAdmin};
use crate::config::Settings;
use crate::http::{router, AppState};
use crate::metrics::Metrics;
use crate::snapshot::SnapshotHolder;
use crate::store::{Store, StoreError};

/// How often the snapshot is rebuilt even without writes, so "today" in the
/// uptime bars moves on.
const SNAPSHOT_REFRESH: Duration = Duration::from_secs(60);

pub const FIRST_ADMIN_EMAIL: &str = "admin@plaster.local";

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct StartOptions {
    /// Seed the demo content when the database has no components.
    pub seed_demo: bool,
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    first_admin: Option<FirstAdmin>,
}

pub fn leptos_options(settings: &Settings) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("plaster")
        .site_root(settings.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(settings.listen)
        .env(if settings.leptos_dev {
            Env::DEV
        } else {
            Env::PROD
        })
        .build()
}

impl Application {
    pub async fn build(settings: Settings, options: StartOptions) -> Result<Self, StartupError> {
        let store = Store::connect(&settings.database_url).await?;
        store.migrate().await?;
        if options.seed_demo && crate::demo::seed(&store, false).await? {
            tracing::info!("seeded the demo content");
        }
        let first_admin = ensure_first_admin(&store, FIRST_ADMIN_EMAIL).await?;

        let snapshot = Arc::new(
            SnapshotHolder::new(settings.default_lang, settings.time_zone)
                .with_public_url(settings.public_url.as_str()),
        );
        snapshot.rebuild(&store).await?;

        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: settings.listen,
                    source,
                })?;
        let state = AppState {
            store,
            snapshot,
            metrics: Metrics::default(),
            leptos_options: leptos_options(&settings),
        };
        Ok(Application {
            listener,
            state,
            first_admin,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Set only on the very first start of an empty database.
    pub fn first_admin(&self) -> Option<&FirstAdmin> {
        self.first_admin.as_ref()
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// The snapshot the public side serves from, so a caller that wrote to
    /// the store can rebuild it.
    pub fn snapshot(&self) -> Arc<SnapshotHolder> {
        self.state.snapshot.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let refresher = {
            let (snapshot, store) = (self.state.snapshot.clone(), self.state.store.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(SNAPSHOT_REFRESH);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    if let Err(e) = snapshot.rebuild(&store).await {
                        tracing::warn!(error = %e, "snapshot refresh failed; serving the last one");
                    }
                }
            })
        };
        let app = router(self.state);
        let result = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await;
        refresher.abort();
        result
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
