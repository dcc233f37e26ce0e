//! The in-memory snapshot the public side serves from. Every write rebuilds
//! it; readers only load an `Arc`, so a request never waits on the database,
//! and when the database is gone the last snapshot keeps being served.

use std::collections::BTreeMap;
use std::sync::Arc;

use app::dto::{Lang, StatusPageView};
use app::ports::StatusSource;
use arc_swap::ArcSwapOption;
use chrono_tz::Tz;

use crate::status_view::build_pages;
use crate::store::{Store, StoreError};

pub struct Snapshot {
    pub pages: BTreeMap<Lang, Arc<StatusPageView>>,
    pub built_at_ms: i64,
}

pub struct SnapshotHolder {
    current: ArcSwapOption<Snapshot>,
    default_lang: Lang,
    tz: Tz,
}

impl SnapshotHolder {
    pub fn new(default_lang: Lang, tz: Tz) -> Self {
        SnapshotHolder {
            current: ArcSwapOption::empty(),
            default_lang,
            tz,
        }
    }

    /// Reads the status data once and replaces the snapshot. On error the
    /// previous snapshot stays in place.
    pub async fn rebuild(&self, store: &Store) -> Result<(), StoreError> {
        let now = chrono::Utc::now().timestamp_millis();
        let since = now - i64::from(crate::status_view::UPTIME_DAYS + 1) * 86_400_000;
        let data = store.load_status_data(since).await?;
        let pages = build_pages(&data, now, self.tz)
            .into_iter()
            .map(|(lang, page)| (lang, Arc::new(page)))
            .collect();
        self.current.store(Some(Arc::new(Snapshot {
            pages,
            built_at_ms: now,
        })));
        Ok(())
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
