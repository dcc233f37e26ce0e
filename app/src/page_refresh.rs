//! Keeps an open page current without reloading it. When the page's data
//! changes (a live event, or a customer's page polling), the server's HTML
//! for the same address is fetched, and its `<main>` and footer replace the
//! page's in place. The public pages are cached by the server per snapshot,
//! so that fetch is a copy from memory, as the first load was.
//!
//! Swapping server HTML instead of re-rendering data in the browser keeps
//! the views and their data types out of the wasm bundle entirely.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Document, DomParser, Element, RequestCache, RequestInit, Response, SupportedType};

use crate::islands::Freshness;

/// How often a customer's page asks for news.
const POLL_EVERY_MS: i32 = 5_000;

thread_local! {
    /// What keeps the page following (stream, timers); lives as long as the page.
    static KEEP: RefCell<Vec<Box<dyn std::any::Any>>> = const { RefCell::new(Vec::new()) };
}

struct Refresher {
    /// A refresh is under way; another request only marks `again`.
    busy: Cell<bool>,
    again: Cell<bool>,
    /// The `<main>` markup last put on screen, as the server sent it: an
    /// unchanged page is left alone (a half-typed form stays as it is).
    last_main: RefCell<Option<String>>,
}

/// Starts keeping the page current; called once, when the page hydrates.
pub fn start(freshness: Freshness) {
    let document = web_sys::window().and_then(|w| w.document());
    // Read before the times are rewritten, so it is the server's markup.
    let last_main = document
        .as_ref()
        .and_then(|d| d.get_element_by_id("main"))
        .map(|m| m.inner_html());
    crate::local_time::rewrite_times();
    let refresher = Rc::new(Refresher {
        busy: Cell::new(false),
        again: Cell::new(false),
        last_main: RefCell::new(last_main),
    });
    let keep: Option<Box<dyn std::any::Any>> = match freshness {
        Freshness::Follow { version } => {
            let refresher = refresher.clone();
            Some(Box::new(crate::live::follow(version, move || {
                refresher.request()
            })))
        }
        Freshness::Poll => {
            let refresher = refresher.clone();
            crate::live::every(POLL_EVERY_MS, move || refresher.request())
                .map(|t| Box::new(t) as Box<dyn std::any::Any>)
        }
    };
    KEEP.with(|k| k.borrow_mut().extend(keep));
}

impl Refresher {
    fn request(self: &Rc<Self>) {
        if self.busy.replace(true) {
            self.again.set(true);
            return;
        }
        let this = self.clone();
        leptos::task::spawn_local(async move {
            loop {
                // A failed fetch (server restarting, offline) keeps the page
                // as it is; the next change or tick tries again.
                let _ = this.refresh_once().await;
                if !this.again.replace(false) {
                    break;
                }
            }
            this.busy.set(false);
        });
    }

    async fn refresh_once(&self) -> Option<()> {
        let window = web_sys::window()?;
        let location = window.location();
        let url = format!("{}{}", location.pathname().ok()?, location.search().ok()?);
        let init = RequestInit::new();
        // The page's own cache lifetime must not hide the change: revalidate.
        init.set_cache(RequestCache::NoCache);
        let response: Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
            .await
            .ok()?
            .dyn_into()
            .ok()?;
        if !response.ok() {
            return None;
        }
        let text = JsFuture::from(response.text().ok()?)
            .await
            .ok()?
            .as_string()?;
        let fresh = DomParser::new()
            .ok()?
            .parse_from_string(&text, SupportedType::TextHtml)
            .ok()?;
        let document = window.document()?;
        let fresh_main = fresh.get_element_by_id("main")?;
        let Some(main) = document.get_element_by_id("main") else {
            // The page on screen was an error ("still starting"): there is
            // nothing to keep, so load the working page whole.
            return location.reload().ok();
        };
        let markup = fresh_main.inner_html();
        if self.last_main.borrow().as_deref() == Some(markup.as_str()) {
            return Some(());
        }
        *self.last_main.borrow_mut() = Some(markup);
        keep_folds(&main, &fresh_main);
        keep_live_regions(&main, &fresh_main);
        main.set_inner_html("");
        while let Some(child) = fresh_main.first_child() {
            main.append_child(&child).ok()?;
        }
        replace_footer(&document, &fresh);
        document.set_title(&fresh.title());
        crate::hydration::hydrate_in(&main);
        crate::local_time::rewrite_times();
        Some(())
    }
}

fn each(root: &Element, selector: &str, mut f: impl FnMut(Element)) {
    let Ok(found) = root.query_selector_all(selector) else {
        return;
    };
    for i in 0..found.length() {
        if let Some(el) = found.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
            f(el);
        }
    }
}

/// A group the reader folded stays folded in the new content, its button
/// saying so, before the new toggles hydrate (they start from the list's state).
fn keep_folds(main: &Element, fresh: &Element) {
    each(main, "ul.component-list[hidden]", |list| {
        let id = list.id();
        if let Ok(Some(fresh_list)) = fresh.query_selector(&format!("ul[id='{id}']")) {
            let _ = fresh_list.set_attribute("hidden", "");
        }
        let button = format!("button[aria-controls='{id}']");
        if let (Ok(Some(old)), Ok(Some(new))) =
            (main.query_selector(&button), fresh.query_selector(&button))
        {
            let _ = new.set_attribute("aria-expanded", "false");
            new.set_text_content(old.text_content().as_deref());
        }
    });
}

/// An `aria-live` region is announced when its content changes, not when a
/// new one appears: the old element stays, with the new class and content.
fn keep_live_regions(main: &Element, fresh: &Element) {
    each(main, "[aria-live][data-testid]", |region| {
        let Some(test_id) = region.get_attribute("data-testid") else {
            return;
        };
        let Ok(Some(new)) = fresh.query_selector(&format!("[data-testid='{test_id}']")) else {
            return;
        };
        region.set_class_name(&new.class_name());
        if region.inner_html() != new.inner_html() {
            region.set_inner_html(&new.inner_html());
        }
        let _ = new.replace_with_with_node_1(&region);
    });
}

fn replace_footer(document: &Document, fresh: &Document) {
    const FOOTER: &str = "footer.page-footer";
    if let (Ok(Some(footer)), Ok(Some(new))) = (
        document.query_selector(FOOTER),
        fresh.query_selector(FOOTER),
    ) {
        footer.set_inner_html(&new.inner_html());
    }
}
