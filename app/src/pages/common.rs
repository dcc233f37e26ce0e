//! Pieces every public page shares: the header with the language switcher,
//! the footer, localised texts, times, and the response headers that say
//! which language the page is in.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::dto::{Lang, LocalText, Versioned};
use crate::i18n::{path_in_lang, ui};
use crate::islands::{Freshness, PageLive};

/// The path prefix of a route: `/sv` for a route with a language in its
/// path, nothing for the unprefixed routes, whose language is negotiated.
pub fn prefix(route_lang: Option<Lang>) -> String {
    route_lang.map_or_else(String::new, |l| format!("/{}", l.code()))
}

/// `/` for the unprefixed front page, else the prefix itself.
pub fn home_href(route_lang: Option<Lang>) -> String {
    route_lang.map_or_else(|| "/".to_string(), |l| format!("/{}", l.code()))
}

/// Tells caches and clients which language the page is in, and that an
/// unprefixed page depends on `Accept-Language`. Only the server sends headers.
pub fn set_language_headers(lang: Lang) {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        use http::header::{HeaderValue, CONTENT_LANGUAGE, VARY};
        response.insert_header(CONTENT_LANGUAGE, HeaderValue::from_static(lang.code()));
        response.insert_header(VARY, HeaderValue::from_static("Accept-Language"));
    }
    #[cfg(not(feature = "ssr"))]
    let _ = lang;
}

/// Text for `<Title>`. leptos_meta 0.8 writes the title into the server's
/// HTML without escaping it, so an incident title holding `</title><script>`
/// would break out of the element. On the server it is escaped here (the
/// browser decodes the entities inside `<title>`); in the browser the title
/// is set as text and needs nothing.
pub fn document_title(text: String) -> String {
    #[cfg(feature = "ssr")]
    {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }
    #[cfg(not(feature = "ssr"))]
    text
}

/// Marks the response as "not found" while still rendering a helpful page.
pub fn set_not_found() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
}

/// Lets keyboard users jump past the header.
#[component]
pub fn SkipLink(lang: Lang) -> impl IntoView {
    view! { <a class="skip-link" href="#main">{ui(lang).skip_to_content}</a> }
}

/// The page's header: the page name (a heading on the front page, a link
/// home elsewhere) and the language switcher.
#[component]
pub fn PageHeader(
    page_name: String,
    lang: Lang,
    route_lang: Option<Lang>,
    #[prop(optional)] is_home: bool,
) -> impl IntoView {
    let name = if is_home {
        view! { <h1>{page_name}</h1> }.into_any()
    } else {
        view! {
            <p class="site-name">
                <a href=home_href(route_lang)>{page_name}</a>
            </p>
        }
        .into_any()
    };
    view! {
        <SkipLink lang=lang/>
        <header class="page-header">
            {name}
            <LangSwitcher current=lang/>
        </header>
    }
}

/// Links to the same page in each language.
#[component]
pub fn LangSwitcher(current: Lang) -> impl IntoView {
    // Memos are Copy; the Location around them is not.
    let location = use_location();
    let (pathname, query) = (location.pathname, location.query);
    view! {
        <nav class="lang-switcher" aria-label=ui(current).language>
            <ul>
                {Lang::ALL
                    .into_iter()
                    .map(|l| {
                        let current_page = (l == current).then_some("page");
                        let href = move || {
                            let path = path_in_lang(&pathname.get(), l);
                            // Keep the history page number; nothing else in the query matters.
                            match query.read().get("page") {
                                Some(page) if page.chars().all(|c| c.is_ascii_digit()) => {
                                    format!("{path}?page={page}")
                                }
                                _ => path,
                            }
                        };
                        view! {
                            <li>
                                <a href=href hreflang=l.code() lang=l.code() aria-current=current_page>
                                    {l.native_name()}
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}

#[component]
pub fn PageFooter(
    lang: Lang,
    time_zone: String,
    #[prop(optional)] generated: Option<String>,
) -> impl IntoView {
    let t = ui(lang);
    view! {
        <footer class="page-footer">
            <p>
                {t.times_in} " " <span data-testid="time-zone">{time_zone}</span>
                {generated.map(|g| format!(" · {} {}", t.updated, g))}
            </p>
            // A plain link: the subscription pages are served by the server, not the app.
            <p>
                <a href=format!("/subscribe?lang={}", lang.code()) rel="external" data-testid="subscribe-link">
                    {t.subscribe}
                </a>
            </p>
        </footer>
    }
}

/// A text that says so when it is shown in another language than the page's.
#[component]
pub fn Localized(text: LocalText, lang: Lang) -> impl IntoView {
    match text.fallback_from {
        None => view! { <span>{text.text}</span> }.into_any(),
        Some(from) => view! {
            <span lang=from.code()>{text.text}</span>
            <small class="fallback-note">
                " (" {ui(lang).fallback_note} " " {from.native_name()} ")"
            </small>
        }
        .into_any(),
    }
}

/// An incident text: HTML the server made from the staff's Markdown and
/// sanitised (see the server's `markdown` module), with the same fallback
/// note as [`Localized`].
#[component]
pub fn LocalizedHtml(text: LocalText, lang: Lang) -> impl IntoView {
    let note = text.fallback_from.map(|from| {
        view! {
            <small class="fallback-note">
                "(" {ui(lang).fallback_note} " " {from.native_name()} ")"
            </small>
        }
    });
    let text_lang = text.fallback_from.unwrap_or(lang).code();
    view! {
        <div class="md" lang=text_lang inner_html=text.text></div>
        {note}
    }
}

/// A point in time: the page's zone from the server, the reader's own zone
/// once the page has hydrated (see [`PageLive`](crate::islands::PageLive)).
#[component]
pub fn Time(ms: i64, display: String) -> impl IntoView {
    view! { <time datetime=iso_utc(ms) data-ms=ms.to_string()>{display}</time> }
}

/// Epoch milliseconds as a valid `datetime` value in UTC, to the second:
/// `2024-08-24T14:06:00Z`. The days-to-date step is the proleptic Gregorian
/// calendar's (civil-from-days), so no date library is needed in the bundle.
pub fn iso_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Shows a page once its data has arrived from the server function, or says
/// plainly that the status page is unavailable. Every public page loads this way.
///
/// The page follows live changes once hydrated: it carries the
/// [`PageLive`](crate::islands::PageLive) island with the version it shows.
pub fn loaded<T, F>(page: Resource<Result<T, ServerFnError>>, render: F) -> impl IntoView
where
    T: Versioned + serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
    F: Fn(T) -> AnyView + Clone + Send + Sync + 'static,
{
    view! {
        <Suspense fallback=|| view! { <p class="loading">"…"</p> }>
            {move || {
                let render = render.clone();
                Suspend::new(async move {
                    match page.await {
                        Ok(data) => {
                            let freshness = Freshness::Follow { version: data.version() };
                            view! {
                                {render(data)}
                                <PageLive freshness/>
                            }
                            .into_any()
                        }
                        // Followed too: the page loads itself once the status is back.
                        Err(e) => {
                            view! {
                                <p class="error" role="alert">
                                    {format!("The status page is unavailable: {e}")}
                                </p>
                                <PageLive freshness=Freshness::Follow { version: 0 }/>
                            }
                                .into_any()
                        }
                    }
                })
            }}
        </Suspense>
    }
}

#[cfg(test)]
mod tests {
    use super::iso_utc;

    #[test]
    fn datetime_values_are_utc_iso_8601() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(1_724_508_360_000), "2024-08-24T14:06:00Z");
        assert_eq!(iso_utc(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(iso_utc(-1_000), "1969-12-31T23:59:59Z");
    }
}
