//! The rendered public pages of one snapshot: a map from page to the one
//! render every concurrent request for it shares. It lives inside the
//! snapshot, so a rebuild drops it; `web::page_cache` fills and serves it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use app::dto::Lang;
use tokio::sync::OnceCell;

use crate::status::public::Asset;

/// Which page, in which language. An unprefixed path's language comes from
/// `Accept-Language`, so it is part of the key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub path: String,
    pub lang: Lang,
    pub history_page: Option<u32>,
}

pub type Cell = Arc<OnceCell<Arc<Asset>>>;

/// The rendered pages of one snapshot.
#[derive(Default)]
pub struct PageCache {
    pages: Mutex<HashMap<PageKey, Cell>>,
}

impl PageCache {
    fn pages(&self) -> MutexGuard<'_, HashMap<PageKey, Cell>> {
        // A panic elsewhere while holding the lock leaves a usable map.
        self.pages.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn cell(&self, key: &PageKey) -> Cell {
        self.pages().entry(key.clone()).or_default().clone()
    }

    /// The page, if it has been rendered from this snapshot already.
    pub fn rendered(&self, key: &PageKey) -> Option<Arc<Asset>> {
        self.pages().get(key)?.get().cloned()
    }

    pub fn len(&self) -> usize {
        self.pages().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
