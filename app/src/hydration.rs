//! The browser's entry point: hydrates the islands of the page (and of any
//! content a live refresh puts in later).
//!
//! Leptos' own islands script walks the document in JavaScript; ours hands
//! the wasm module's exports to Rust instead, so that a refreshed `<main>`
//! can have its new islands hydrated by the same code (`hydrate_in`), and
//! the page's only inline script stays one line (it is hashed into the CSP).

use std::cell::RefCell;

use wasm_bindgen::{JsCast, JsValue};

thread_local! {
    /// The wasm-bindgen module's exports: each island's hydrate function
    /// is exported under the name its element carries in `data-component`.
    static EXPORTS: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

/// Called once by the boot script with the module's exports.
pub fn start(exports: JsValue) {
    leptos::mount::hydrate_islands();
    EXPORTS.with(|e| *e.borrow_mut() = Some(exports));
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let Some(body) = document.body() {
        hydrate_in(&body);
    }
    // Lets tests (and curious readers) see that the page is live now.
    if let Some(root) = document.document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}

/// Hydrates every island under `root`, in document order.
pub fn hydrate_in(root: &web_sys::Element) {
    let Some(exports) = EXPORTS.with(|e| e.borrow().clone()) else {
        return;
    };
    let Ok(islands) = root.query_selector_all("leptos-island") else {
        return;
    };
    for i in 0..islands.length() {
        let Some(island) = islands.item(i) else {
            continue;
        };
        let Some(name) = island
            .dyn_ref::<web_sys::Element>()
            .and_then(|el| el.get_attribute("data-component"))
        else {
            continue;
        };
        let hydrate = js_sys::Reflect::get(&exports, &JsValue::from_str(&name))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        match hydrate {
            Some(hydrate) => {
                let _ = hydrate.call1(&JsValue::NULL, &island);
            }
            // A page newer than the bundle (a deploy while it was open).
            None => web_sys::console::warn_1(&JsValue::from_str(&format!(
                "no hydrate function for the island {name}"
            ))),
        }
    }
}
