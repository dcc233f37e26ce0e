//! Plaster's user interface and what the browser and the server share.
//!
//! The server implements the [`ports`] and provides them as Leptos context;
//! components reach data only through server functions that read those ports.
//!
//! Pages are rendered on the server only. The browser hydrates the
//! [`islands`] alone (Leptos' islands mode): folding a group, following
//! live changes, local times. See docs/architecture.md, "The browser bundle".

// Leptos' typed views nest deeply; the wasm build needs more room than the default.
#![recursion_limit = "256"]

pub mod dto;
#[cfg(feature = "hydrate")]
mod hydration;
pub mod i18n;
pub mod islands;
#[cfg(feature = "hydrate")]
pub(crate) mod live;
#[cfg(feature = "hydrate")]
mod local_time;
#[cfg(feature = "hydrate")]
mod page_refresh;
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

/// The preloads and the module script that hydrate the islands, in place of
/// Leptos' `HydrationScripts`. Ours hands the module's exports to
/// [`hydrate`], which finds the islands itself (see `hydration`), so a live
/// refresh can hydrate the islands it brings. And in 0.8.23 Leptos' script
/// component writes the CSP nonce into the preloads' `crossorigin` attribute, which is invalid HTML and asks for
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
        "import({js:?}).then((m) => m.default({{ module_or_path: {wasm:?} }}).then(() => m.hydrate(m)));"
    );
    let nonce = leptos::nonce::use_nonce();
    // Islands mode: from here on, only islands are rendered for hydration
    // (what Leptos' own script component does too); resources outside them
    // send no data to the browser.
    if let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
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

/// The boot script's call, with the module's own exports (the islands'
/// hydrate functions among them).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate(exports: wasm_bindgen::JsValue) {
    console_error_panic_hook::set_once();
    hydration::start(exports);
}
