//! The in-memory snapshot the public side serves from. Every write rebuilds
//! it; readers only load an `Arc`, so a request never waits on the database,
//! and when the database is gone the last snapshot keeps being served.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use app::dto::{Lang, StatusPageView};
use app::ports::StatusSource;
use arc_swap::ArcSwapOption;
use chrono_tz::Tz;

use crate::public::{build_assets, Asset, PublicSettings};
use crate::status_view::build_pages;
use crate::store::{Store, StoreError};

pub struct Snapshot {
    pub pages: BTreeMap<Lang, Arc<StatusPageView>>,
    /// The API, feeds and badge, ready to send, keyed by request path.
    pub assets: HashMap<String, Arc<Asset>>,
    pub built_at_ms: i64,
}

pub struct SnapshotHolder {
    current: ArcSwapOption<Snapshot>,
    default_lang: Lang,
    tz: Tz,
    public: PublicSettings,
}

impl SnapshotHolder {
    pub fn new(default_lang: Lang, tz: Tz) -> Self {
        SnapshotHolder {
            current: ArcSwapOption::empty(),
            default_lang,
            tz,
            public: PublicSettings::new("", tz, default_lang),
        }
    }

    /// Where the page is reachable from outside, for links in the API and feeds.
    pub fn with_public_url(mut self, public_url: &str) -> Self {
        self.public = PublicSettings::new(public_url, self.tz, self.default_lang);
        self
    }

    /// Reads the status data once and replaces the snapshot. On error the
    /// previous snapshot stays in place.
    pub async fn rebuild(&self, store: &Store) -> Result<(), StoreError> {
        let now = chrono::Utc::now().timestamp_millis();
        let since = now - i64::from(crate::status_view::UPTIME_DAYS + 1) * 86_400_000;
        let data = store.load_status_data(since).await?;
        let (tz, public) = (self.tz, self.public.clone());
        // Serialising and compressing every document is CPU work: keep it
        // off the threads that answer requests.
        let built = tokio::task::spawn_blocking(move || {
            let pages = build_pages(&data, now, tz)
                .into_iter()
                .map(|(lang, page)| (lang, Arc::new(page)))
                .collect::<BTreeMap<_, _>>();
            (pages, build_assets(&data, now, &public))
        })
        .await;
        let (pages, assets) = match built {
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
        self.current.store(Some(Arc::new(Snapshot {
            pages,
            assets,
            built_at_ms: now,
        })));
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
}

impl StatusSource for SnapshotHolder {
    fn status_page(&self, lang: Lang) -> Option<Arc<StatusPageView>> {
        self.current
            .load()
            .as_ref()
            .and_then(|s| s.pages.get(&lang).cloned())
    }

    fn default_lang(&self) -> Lang {
        self.default_lang
    }
}
