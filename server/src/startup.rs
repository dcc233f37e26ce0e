//! Building and running the application: open and migrate the database,
//! create the first admin, seed the demo when asked (`plaster serve --demo`),
//! build the first snapshot, bind, serve.

use std::net::SocketAddr;
use std::sync::Arc;

use leptos::config::Env;
use leptos::prelude::LeptosOptions;
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::metrics::Metrics;
use crate::staff::password::{ensure_first_admin, AuthError, FirstAdmin};
use crate::state::{AppState, CookiePolicy, MailDomain};
use crate::status::live::LiveHandle;
use crate::status::snapshot::SnapshotHolder;
use crate::store::{DatabaseUrl, Store, StoreError};
use crate::web::router;

pub const FIRST_ADMIN_EMAIL: &str = "admin@plaster.local";

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Mail(#[from] crate::notify::mailer::MailError),
    #[error("seeding the demo failed: {0}")]
    Demo(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct StartOptions {
    /// Seed the demo content (with its demo staff and customers) when the
    /// database has no components. Off unless `plaster serve --demo`: a plain
    /// start creates only the first admin.
    pub seed_demo: bool,
}

pub struct Application {
    listener: TcpListener,
    /// `PLASTER_METRICS_LISTEN`'s: `/metrics` there, and only there.
    metrics_listener: Option<TcpListener>,
    mailer: Arc<crate::notify::mailer::Mailer>,
    public: crate::status::public::PublicSettings,
    state: AppState,
    first_admin: Option<FirstAdmin>,
    /// The demo's finance members, with their one-time passwords.
    demo_staff: Vec<FirstAdmin>,
    /// (case, e-mail) of demo customers to sign in as at `/me`.
    demo_customers: Vec<(&'static str, String)>,
    database_url: DatabaseUrl,
}

/// The demo's two finance members: one drafted the demo runs, the other
/// approved one of them and may approve the other (four eyes).
pub const DEMO_FINANCE: [&str; 2] = ["finance@plaster.local", "approver@plaster.local"];
/// The demo's support agent, who works the claims queue.
pub const DEMO_SUPPORT: &str = "support@plaster.local";

async fn seed_demo_runs(
    store: &Store,
    notices: &crate::compensation::execution_job::NoticeSettings,
) -> Result<Vec<FirstAdmin>, StartupError> {
    use crate::staff::roles::{Role, Roles};
    let mut staff = Vec::new();
    let mut actors = Vec::new();
    for email in DEMO_FINANCE {
        let (id, password) = crate::staff::accounts::create_account(
            store,
            &crate::kernel::audit::Actor::Cli,
            email,
            &Roles::new(vec![Role::Finance]),
        )
        .await
        .map_err(|e| StartupError::Demo(e.to_string()))?;
        actors.push(crate::kernel::audit::Actor::Staff {
            id: crate::kernel::ids::AccountId::from(id.as_str()),
            email: email.to_string(),
        });
        staff.push(FirstAdmin {
            email: email.to_string(),
            one_time_password: password,
        });
    }
    crate::compensation::demo::seed(store, &actors[0], &actors[1], notices)
        .await
        .map_err(StartupError::Demo)?;
    let (_, password) = crate::staff::accounts::create_account(
        store,
        &crate::kernel::audit::Actor::Cli,
        DEMO_SUPPORT,
        &Roles::new(vec![Role::Support]),
    )
    .await
    .map_err(|e| StartupError::Demo(e.to_string()))?;
    staff.push(FirstAdmin {
        email: DEMO_SUPPORT.to_string(),
        one_time_password: password,
    });
    Ok(staff)
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
        let first_admin = ensure_first_admin(&store, FIRST_ADMIN_EMAIL).await?;
        let mailer = Arc::new(crate::notify::mailer::Mailer::new(
            settings.smtp.as_ref(),
            &store,
        )?);
        let notices = crate::compensation::execution_job::NoticeSettings {
            public_url: settings.public_url.to_string(),
            mail_domain: mailer.domain(),
            time_zone: settings.time_zone,
        };
        let mut demo_staff = Vec::new();
        let mut demo_customers = Vec::new();
        if options.seed_demo && crate::status::demo::seed(&store, false).await? {
            let customers = crate::customers::demo::seed(&store)
                .await
                .map_err(|e| StartupError::Demo(e.to_string()))?;
            demo_staff = seed_demo_runs(&store, &notices).await?;
            crate::claims::demo::seed(
                &store,
                settings.time_zone,
                &crate::claims::file::ReceiptSettings {
                    public_url: settings.public_url.as_str().trim_end_matches('/'),
                    mail_domain: &notices.mail_domain,
                    page_name: "Status",
                },
            )
            .await
            .map_err(StartupError::Demo)?;
            demo_customers = crate::claims::demo::customers(&store).await?;
            tracing::info!(customers = customers.customers, "seeded the demo content");
        }

        let snapshot = Arc::new(
            SnapshotHolder::new(settings.default_lang, settings.time_zone)
                .with_public_url(settings.public_url.as_str()),
        );
        snapshot.rebuild(&store).await?;

        let listener = listen(settings.listen).map_err(|source| StartupError::Bind {
            addr: settings.listen,
            source,
        })?;
        let metrics_listener = match settings.metrics_listen {
            Some(addr) => Some(listen(addr).map_err(|source| StartupError::Bind { addr, source })?),
            None => None,
        };
        let state = AppState {
            store,
            snapshot,
            metrics: Metrics::default(),
            leptos_options: leptos_options(&settings),
            live: LiveHandle::new(settings.live_streams),
            cookies: CookiePolicy {
                secure: settings.public_url.scheme() == "https",
            },
            security: crate::web::security_headers::SecurityPolicy {
                hsts: settings.public_url.scheme() == "https",
            },
            mail: MailDomain(mailer.domain()),
            what_if: Default::default(),
            outgoing: settings.outgoing.clone(),
            trusted_proxy: crate::kernel::client::TrustedProxy(settings.trusted_proxy),
            public_writes: Default::default(),
        };
        Ok(Application {
            listener,
            metrics_listener,
            mailer,
            public: crate::status::public::PublicSettings::new(
                settings.public_url.as_str(),
                settings.time_zone,
                settings.default_lang,
            ),
            state,
            first_admin,
            demo_staff,
            demo_customers,
            database_url: settings.database_url.clone(),
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The port `/metrics` is served on when it has a listener of its own.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map(|a| a.port())
    }

    /// Set only on the very first start of an empty database.
    pub fn first_admin(&self) -> Option<&FirstAdmin> {
        self.first_admin.as_ref()
    }

    /// The demo's finance members; set only when the demo was just seeded.
    pub fn demo_customers(&self) -> &[(&'static str, String)] {
        &self.demo_customers
    }

    pub fn demo_staff(&self) -> &[FirstAdmin] {
        &self.demo_staff
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// The snapshot the public side serves from, so a caller that wrote to
    /// the store can rebuild it.
    pub fn snapshot(&self) -> Arc<SnapshotHolder> {
        self.state.snapshot.clone()
    }

    /// Wakes the live task after a write made in this process, so it need
    /// not wait for the poll (SQLite) or the notification (PostgreSQL).
    pub fn live(&self) -> LiveHandle {
        self.state.live.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        // Follows writes from this process, the CLI and other nodes, and
        // refreshes the snapshot now and then; stops when dropped.
        let mut background = crate::status::live::spawn(
            self.state.store.clone(),
            self.state.snapshot.clone(),
            &self.database_url,
            &self.state.live,
        );
        let live = self.state.live.clone();
        let metrics_listener = self.metrics_listener;
        let app = router(self.state.clone(), metrics_listener.is_none());
        for task in crate::notify::spawn(
            self.state.store.clone(),
            self.mailer.clone(),
            self.public.clone(),
            self.state.outgoing.clone(),
        ) {
            background.also(task);
        }
        background.also(crate::compensation::preview_job::spawn(
            self.state.store.clone(),
            self.state.what_if.clone(),
        ));
        background.also(crate::compensation::execution_job::spawn(
            self.state.store.clone(),
            crate::compensation::execution_job::NoticeSettings {
                public_url: self.public.public_url.clone(),
                mail_domain: self.state.mail.0.clone(),
                time_zone: self.public.time_zone,
            },
        ));
        background.also(tokio::spawn(housekeeping(self.state.store.clone())));
        background.also(crate::compensation::payouts::spawn(
            self.state.store.clone(),
            self.state.outgoing.clone(),
        ));
        let front_door = crate::web::front_door::FrontDoor::new(
            self.state.snapshot.clone(),
            self.state.metrics.clone(),
            self.state.security,
            app.clone(),
        );
        background.also(tokio::spawn(crate::web::page_cache::warm(
            app,
            self.state.snapshot.clone(),
        )));
        // The metrics listener stops with the pages, at the same signal.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let metrics_state = self.state.metrics.clone();
        let metrics = async move {
            let Some(listener) = metrics_listener else {
                return Ok(());
            };
            if let Ok(addr) = listener.local_addr() {
                tracing::info!(%addr, "serving /metrics on its own address");
            }
            crate::web::serve::serve(
                listener,
                crate::web::probes::metrics_router(metrics_state),
                async move {
                    let mut stopped = stopped;
                    let _ = stopped.changed().await;
                },
            )
            .await
        };
        let pages = crate::web::serve::serve(self.listener, front_door, async move {
            shutdown_signal().await;
            live.close();
            let _ = stop.send(true);
        });
        let (pages, metrics) = tokio::join!(pages, metrics);
        pages.and(metrics)
    }
}

/// Purges old sessions, sign-in attempts and mail once an hour (the first
/// time a minute after start, out of the way of the start-up work).
async fn housekeeping(store: Store) {
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + std::time::Duration::from_secs(60),
        std::time::Duration::from_secs(3600),
    );
    loop {
        tick.tick().await;
        let now = chrono::Utc::now().timestamp_millis();
        match crate::store::housekeeping::purge(&store, now).await {
            Ok(p) if p.total() > 0 => tracing::info!(?p, "purged old rows"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging old rows failed; next hour again"),
        }
    }
}

/// Room for a herd of connections arriving at once (a reconnect storm of
/// live clients after a restart); the default backlog of 128 makes the
/// rest wait a full second for a SYN retry. The kernel caps it at somaxconn.
const LISTEN_BACKLOG: u32 = 4096;

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
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
