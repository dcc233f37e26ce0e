//! The ports: what the UI needs from the server, as traits the server implements
//! and provides through Leptos context. Server-only.

use std::sync::Arc;

use crate::dto::{Lang, StatusPageView};

/// Read side of the public status page. Implementations answer from memory:
/// the public path never waits on the database.
pub trait StatusSource: Send + Sync + 'static {
    /// The front page in `lang`, or `None` before the first snapshot exists.
    fn status_page(&self, lang: Lang) -> Option<Arc<StatusPageView>>;
    /// The language used when the reader did not choose one.
    fn default_lang(&self) -> Lang;
}

pub type SharedStatusSource = Arc<dyn StatusSource>;
