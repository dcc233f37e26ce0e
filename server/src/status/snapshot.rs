//! The in-memory snapshot the public side serves from. Every write rebuilds
//! it; readers only load an `Arc`, so a request never waits on the database,
//! and when the database is gone the last snapshot keeps being served.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use app::dto::{HistoryItem, IncidentDetail, Lang, StatusPageView};
use app::ports::StatusSource;
use arc_swap::ArcSwapOption;
use chrono_tz::Tz;

use crate::status::live_state::LiveState;
use crate::status::public::{build_assets, Asset, PublicSettings};
use crate::status::rendered_pages::PageCache;
use crate::status::view::{build_history, build_incident_details, build_pages};
use crate::store::{Store, StoreError};

pub struct Snapshot {
    pub pages: BTreeMap<Lang, Arc<StatusPageView>>,
    /// Every incident's page per language, keyed by incident id.
    pub incidents: BTreeMap<Lang, HashMap<String, Arc<IncidentDetail>>>,
    /// The closed incidents per language, newest first.
    pub history: BTreeMap<Lang, Arc<Vec<HistoryItem>>>,
    /// The API, feeds and badge, ready to send, keyed by request path.
    pub assets: HashMap<String, Arc<Asset>>,
    pub built_at_ms: i64,
    /// See [`LiveState::version`].
    pub version: i64,
    /// The HTML pages rendered from this snapshot so far.
    pub pages_html: PageCache,
}

pub struct SnapshotHolder {
    current: ArcSwapOption<Snapshot>,
    default_lang: Lang,
    tz: Tz,
    public: PublicSettings,
    /// Rebuilds come from the live task, the tests and callers that wrote:
    /// one at a time, so an older read never replaces a newer snapshot.
    rebuilding: tokio::sync::Mutex<()>,
    live: tokio::sync::watch::Sender<Arc<LiveState>>,
    /// When the snapshot in place was built; changes on every rebuild.
    built: tokio::sync::watch::Sender<i64>,
}

impl SnapshotHolder {
    pub fn new(default_lang: Lang, tz: Tz) -> Self {
        SnapshotHolder {
            current: ArcSwapOption::empty(),
            default_lang,
            tz,
            public: PublicSettings::new("", tz, default_lang),
            rebuilding: tokio::sync::Mutex::new(()),
            live: tokio::sync::watch::Sender::new(Arc::new(LiveState::default())),
            built: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Where the page is reachable from outside, for links in the API and feeds.
    pub fn with_public_url(mut self, public_url: &str) -> Self {
        self.public = PublicSettings::new(public_url, self.tz, self.default_lang);
        self
    }

    /// Where the public page lives, without a trailing slash ("" when unset).
    pub fn public_url(&self) -> &str {
        &self.public.public_url
    }

    /// The page's time zone, in which staff enter and read times.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// Reads the status data once and replaces the snapshot. On error the
    /// previous snapshot stays in place.
    pub async fn rebuild(&self, store: &Store) -> Result<(), StoreError> {
        let _one_at_a_time = self.rebuilding.lock().await;
        // Read before the data, so the version never claims a change the
        // data does not hold yet.
        let version = crate::status::commands::latest_change_id(store).await?;
        let now = chrono::Utc::now().timestamp_millis();
        let since = now - i64::from(crate::status::view::UPTIME_DAYS + 1) * 86_400_000;
        let data = store.load_status_data(since).await?;
        let statuses = LiveState::component_statuses(&data);
        let (tz, public) = (self.tz, self.public.clone());
        // Serialising and compressing every document is CPU work: keep it
        // off the threads that answer requests.
        let built = tokio::task::spawn_blocking(move || {
            let pages = build_pages(&data, now, tz)
                .into_iter()
                .map(|(lang, mut page)| {
                    page.version = version;
                    (lang, Arc::new(page))
                })
                .collect::<BTreeMap<_, _>>();
            let incidents = build_incident_details(&data, tz)
                .into_iter()
                .map(|(lang, details)| {
                    let details = details
                        .into_iter()
                        .map(|(id, detail)| (id, Arc::new(detail)))
                        .collect::<HashMap<_, _>>();
                    (lang, details)
                })
                .collect::<BTreeMap<_, _>>();
            let history = build_history(&data, tz)
                .into_iter()
                .map(|(lang, items)| (lang, Arc::new(items)))
                .collect::<BTreeMap<_, _>>();
            (pages, incidents, history, build_assets(&data, now, &public))
        })
        .await;
        let (pages, incidents, history, assets) = match built {
            Ok(built) => built,
            Err(e) => {
                tracing::error!(error = %e, "building the snapshot failed; keeping the last one");
                return Ok(());
            }
        };
        let assets = match assets {
            Ok(assets) => assets,
            Err(e) => {
                // A bug, not bad data: keep serving the last good documents
                // rather than none, while the page itself moves on.
                tracing::error!(error = %e, "building the public documents failed");
                self.current
                    .load()
                    .as_ref()
                    .map(|s| s.assets.clone())
                    .unwrap_or_default()
            }
        };
        let snapshot = Arc::new(Snapshot {
            pages,
            incidents,
            history,
            assets,
            built_at_ms: now,
            version,
            pages_html: PageCache::default(),
        });
        let live = LiveState::build(version, statuses, snapshot.pages.get(&self.default_lang));
        self.current.store(Some(snapshot));
        self.built.send_replace(now);
        // Only a real change wakes the live clients.
        self.live.send_if_modified(|current| {
            let changed = **current != live;
            if changed {
                *current = Arc::new(live);
            }
            changed
        });
        Ok(())
    }

    /// The prebuilt document for a request path, if there is one.
    pub fn asset(&self, path: &str) -> Option<Arc<Asset>> {
        self.current
            .load()
            .as_ref()
            .and_then(|s| s.assets.get(path).cloned())
    }

    pub fn current(&self) -> Option<Arc<Snapshot>> {
        self.current.load_full()
    }

    /// Runs `f` on the snapshot in place without taking a reference count,
    /// which the hottest path (every public read) would otherwise bounce
    /// between cores.
    pub fn with_current<R>(&self, f: impl FnOnce(&Snapshot) -> R) -> Option<R> {
        self.current.load().as_deref().map(f)
    }

    /// The version of the snapshot being served (0 before the first).
    pub fn version(&self) -> i64 {
        self.current.load().as_ref().map_or(0, |s| s.version)
    }

    /// Follows the live state; a slow reader only ever sees the newest.
    pub fn subscribe_live(&self) -> tokio::sync::watch::Receiver<Arc<LiveState>> {
        self.live.subscribe()
    }

    /// Changes each time a new snapshot is in place, for work that follows
    /// rebuilds (such as rendering the front pages ahead of readers).
    pub fn subscribe_built(&self) -> tokio::sync::watch::Receiver<i64> {
        self.built.subscribe()
    }

    pub fn live_state(&self) -> Arc<LiveState> {
        self.live.borrow().clone()
    }
}

impl StatusSource for SnapshotHolder {
    fn status_page(&self, lang: Lang) -> Option<Arc<StatusPageView>> {
        self.current
            .load()
            .as_ref()
            .and_then(|s| s.pages.get(&lang).cloned())
    }

    fn incident(&self, lang: Lang, id: &str) -> Option<Arc<IncidentDetail>> {
        self.current
            .load()
            .as_ref()
            .and_then(|s| s.incidents.get(&lang)?.get(id).cloned())
    }

    fn history(&self, lang: Lang) -> Option<Arc<Vec<HistoryItem>>> {
        self.current
            .load()
            .as_ref()
            .and_then(|s| s.history.get(&lang).cloned())
    }

    fn default_lang(&self) -> Lang {
        self.default_lang
    }
}
