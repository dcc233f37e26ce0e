//! Plaster's user interface and what the browser and the server share.
//!
//! The server implements the [`ports`] and provides them as Leptos context;
//! components reach data only through server functions that read those ports.

// Leptos' typed views nest deeply; the wasm build needs more room than the default.
#![recursion_limit = "256"]

pub mod dto;
pub mod i18n;
#[cfg(feature = "hydrate")]
pub(crate) mod live;
#[cfg(feature = "hydrate")]
mod local_time;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod server_fns;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::dto::Lang;
use crate::pages::history::HistoryPage;
use crate::pages::incident::IncidentPage;
use crate::pages::me::MyPage;
use crate::pages::status::StatusHome;

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <BootScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The preloads and the module script that start hydration, in place of
/// Leptos' `HydrationScripts`: in 0.8.23 that one writes the CSP nonce into
/// the preloads' `crossorigin` attribute, which is invalid HTML and asks for
/// a credentials mode that the later fetch of the same wasm does not use,
/// so the preload is wasted (leptos-rs/leptos#4843). Here the module preload
/// has no `crossorigin` and the wasm one is `anonymous`, which is what
/// `import()` and wasm-bindgen's `fetch` ask for on the same origin.
#[component]
fn BootScripts(options: LeptosOptions) -> impl IntoView {
    let pkg = format!("/{}", options.site_pkg_dir);
    let js = format!("{pkg}/{}.js", options.output_name);
    // cargo-leptos names the wasm after the output; a plain cargo build
    // leaves wasm-bindgen's `_bg` suffix (the same rule as Leptos').
    let wasm = if option_env!("LEPTOS_OUTPUT_NAME").is_some() {
        format!("{pkg}/{}.wasm", options.output_name)
    } else {
        format!("{pkg}/{}_bg.wasm", options.output_name)
    };
    let start = format!(
        "import({js:?}).then((m) => m.default({{ module_or_path: {wasm:?} }}).then(() => m.hydrate()));"
    );
    let nonce = leptos::nonce::use_nonce();
    view! {
        <link rel="modulepreload" href=js/>
        <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin="anonymous"/>
        <script type="module" nonce=nonce>{start}</script>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/plaster.css"/>
        <Title text="Status"/>
        // Async rendering: the whole page arrives as HTML, readable without JavaScript.
        // The data comes from memory, so waiting for it costs nothing.
        <Router>
            <Routes fallback=|| view! { <p class="not-found">"Page not found."</p> }>
                <Route path=path!("/") view=|| view! { <StatusHome lang=None/> } ssr=SsrMode::Async/>
                <Route path=path!("/sv") view=|| view! { <StatusHome lang=Some(Lang::Sv)/> } ssr=SsrMode::Async/>
                <Route path=path!("/nb") view=|| view! { <StatusHome lang=Some(Lang::Nb)/> } ssr=SsrMode::Async/>
                <Route path=path!("/en") view=|| view! { <StatusHome lang=Some(Lang::En)/> } ssr=SsrMode::Async/>
                <Route path=path!("/incidents/:id") view=|| view! { <IncidentPage lang=None/> } ssr=SsrMode::Async/>
                <Route path=path!("/sv/incidents/:id") view=|| view! { <IncidentPage lang=Some(Lang::Sv)/> } ssr=SsrMode::Async/>
                <Route path=path!("/nb/incidents/:id") view=|| view! { <IncidentPage lang=Some(Lang::Nb)/> } ssr=SsrMode::Async/>
                <Route path=path!("/en/incidents/:id") view=|| view! { <IncidentPage lang=Some(Lang::En)/> } ssr=SsrMode::Async/>
                <Route path=path!("/history") view=|| view! { <HistoryPage lang=None/> } ssr=SsrMode::Async/>
                <Route path=path!("/sv/history") view=|| view! { <HistoryPage lang=Some(Lang::Sv)/> } ssr=SsrMode::Async/>
                <Route path=path!("/nb/history") view=|| view! { <HistoryPage lang=Some(Lang::Nb)/> } ssr=SsrMode::Async/>
                <Route path=path!("/en/history") view=|| view! { <HistoryPage lang=Some(Lang::En)/> } ssr=SsrMode::Async/>
                <Route path=path!("/me") view=|| view! { <MyPage lang=None/> } ssr=SsrMode::Async/>
                <Route path=path!("/sv/me") view=|| view! { <MyPage lang=Some(Lang::Sv)/> } ssr=SsrMode::Async/>
                <Route path=path!("/nb/me") view=|| view! { <MyPage lang=Some(Lang::Nb)/> } ssr=SsrMode::Async/>
                <Route path=path!("/en/me") view=|| view! { <MyPage lang=Some(Lang::En)/> } ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    // Lets tests (and curious readers) see that the page is live now.
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
