//! The ports: what the UI needs from the server, as traits the server implements
//! and provides through Leptos context. Server-only.

use std::sync::Arc;

use crate::dto::{HistoryItem, IncidentDetail, Lang, StatusPageView};

/// Read side of the public status page. Implementations answer from memory:
/// the public path never waits on the database.
pub trait StatusSource: Send + Sync + 'static {
    /// The front page in `lang`, or `None` before the first snapshot exists.
    fn status_page(&self, lang: Lang) -> Option<Arc<StatusPageView>>;
    /// One incident in `lang`, or `None` when there is no incident with `id`
    /// (or no snapshot yet).
    fn incident(&self, lang: Lang, id: &str) -> Option<Arc<IncidentDetail>>;
    /// Every closed incident in `lang`, newest first, or `None` before the
    /// first snapshot exists.
    fn history(&self, lang: Lang) -> Option<Arc<Vec<HistoryItem>>>;
    /// The language used when the reader did not choose one.
    fn default_lang(&self) -> Lang;
}

pub type SharedStatusSource = Arc<dyn StatusSource>;

/// A future the server's customer pages answer with.
pub type PageFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// Read side of the customer's own page: the request's headers carry the
/// customer's session cookie and languages.
pub trait CustomerSource: Send + Sync + 'static {
    fn my_page(
        &self,
        headers: http::HeaderMap,
        lang: Option<Lang>,
    ) -> PageFuture<Result<crate::dto::MyPageView, String>>;
}

pub type SharedCustomerSource = Arc<dyn CustomerSource>;
