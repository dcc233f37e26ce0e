//! The only parts of the UI that run in the browser (Leptos islands).
//!
//! Every page is rendered whole on the server; what a reader can do with
//! it after that is small: fold a group of components, see the page follow
//! live changes, read times in their own zone. Those are the islands here.
//! Everything else (the pages, the router, the data types and their JSON)
//! stays out of the wasm bundle, which is what keeps it small: the whole
//! app hydrated was 1.1 MB, most of it view and codec code for data the
//! browser already had as HTML (docs/benchmarks-http.md, "The wasm").

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// How an open page keeps itself current once hydrated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Freshness {
    /// Public pages follow the live stream; `version` is the snapshot the
    /// page was rendered from, so a change made while it loaded is not missed.
    Follow { version: i64 },
    /// A customer's own page has no stream of its own: it asks again every
    /// few seconds.
    Poll,
}

/// Keeps the page current: when its data changes, the server's new HTML
/// for the same address replaces the main content in place (no reload),
/// and times are shown in the reader's own zone. Renders nothing.
#[island]
pub fn PageLive(freshness: Freshness) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    crate::page_refresh::start(freshness);
    #[cfg(not(feature = "hydrate"))]
    let _ = freshness;
}

/// The button that folds a group's list of components (`list_id`) away
/// and back. The list itself is plain server HTML.
#[island]
pub fn FoldToggle(list_id: String, hide: String, show: String) -> impl IntoView {
    let (open, set_open) = signal(initially_open(&list_id));
    let controls = list_id.clone();
    let toggle = move |_| {
        let now_open = !open.get_untracked();
        set_open.set(now_open);
        show_list(&list_id, now_open);
    };
    view! {
        <button
            type="button"
            class="toggle"
            aria-controls=controls
            aria-expanded=move || open.get().to_string()
            on:click=toggle
        >
            {move || if open.get() { hide.clone() } else { show.clone() }}
        </button>
    }
}

/// The server renders every group open; in the browser a group folded
/// before a live refresh stays folded (see `page_refresh`).
fn initially_open(list_id: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        list_element(list_id).is_none_or(|list| !list.has_attribute("hidden"))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = list_id;
        true
    }
}

#[cfg(feature = "hydrate")]
fn list_element(list_id: &str) -> Option<web_sys::Element> {
    web_sys::window()?.document()?.get_element_by_id(list_id)
}

fn show_list(list_id: &str, open: bool) {
    #[cfg(feature = "hydrate")]
    if let Some(list) = list_element(list_id) {
        let _ = if open {
            list.remove_attribute("hidden")
        } else {
            list.set_attribute("hidden", "")
        };
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (list_id, open);
}
