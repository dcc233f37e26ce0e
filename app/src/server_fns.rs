//! Server functions: the only way components reach data. Their bodies run on
//! the server, behind the ports in context.

use leptos::prelude::*;

use crate::dto::{HistoryPageView, IncidentPageView, Lang, StatusPageView};

/// Incidents per history page. A fixed count rather than a span of months:
/// incidents are rare and uneven (years may pass between two), so a month
/// window would give many empty pages and, in a bad month, one huge one.
pub const HISTORY_PAGE_SIZE: usize = 10;

#[cfg(feature = "ssr")]
fn source() -> Result<crate::ports::SharedStatusSource, ServerFnError> {
    use_context::<crate::ports::SharedStatusSource>()
        .ok_or_else(|| ServerFnError::new("status source missing from context"))
}

/// The language the reader asked for in the path, else the best match of
/// the request's `Accept-Language`, else the page's default.
#[cfg(feature = "ssr")]
fn resolve_lang(lang: Option<Lang>, default: Lang) -> Lang {
    lang.unwrap_or_else(|| {
        use_context::<http::request::Parts>()
            .and_then(|parts| {
                parts
                    .headers
                    .get(http::header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .map(|header| crate::i18n::negotiate(header, default))
            })
            .unwrap_or(default)
    })
}

#[cfg(feature = "ssr")]
fn not_ready() -> ServerFnError {
    ServerFnError::new("the status page is still starting; try again in a moment")
}

/// The public front page in `lang` (negotiated from the request when `None`).
#[server(prefix = "/_sf", endpoint = "status_page")]
pub async fn status_page(lang: Option<Lang>) -> Result<StatusPageView, ServerFnError> {
    let source = source()?;
    let lang = resolve_lang(lang, source.default_lang());
    source
        .status_page(lang)
        .map(|page| (*page).clone())
        .ok_or_else(not_ready)
}

/// One incident's page; `incident` is `None` for an unknown id.
#[server(prefix = "/_sf", endpoint = "incident_page")]
pub async fn incident_page(
    lang: Option<Lang>,
    id: String,
) -> Result<IncidentPageView, ServerFnError> {
    let source = source()?;
    let lang = resolve_lang(lang, source.default_lang());
    // The front page carries the frame (name, zone) and tells whether a
    // snapshot exists at all, which an unknown id alone could not.
    let front = source.status_page(lang).ok_or_else(not_ready)?;
    Ok(IncidentPageView {
        lang,
        page_name: front.page_name.clone(),
        time_zone: front.time_zone.clone(),
        incident: source.incident(lang, &id).map(|i| (*i).clone()),
        version: front.version,
    })
}

/// Page `page` (1-based; out of range is clamped) of the incident history.
#[server(prefix = "/_sf", endpoint = "history_page")]
pub async fn history_page(lang: Option<Lang>, page: u32) -> Result<HistoryPageView, ServerFnError> {
    use crate::dto::HistoryMonth;

    let source = source()?;
    let lang = resolve_lang(lang, source.default_lang());
    let front = source.status_page(lang).ok_or_else(not_ready)?;
    let items = source.history(lang).ok_or_else(not_ready)?;
    let total_pages = items.len().div_ceil(HISTORY_PAGE_SIZE).max(1);
    let page = (page.max(1) as usize).min(total_pages);
    let mut months: Vec<HistoryMonth> = Vec::new();
    for item in items
        .iter()
        .skip((page - 1) * HISTORY_PAGE_SIZE)
        .take(HISTORY_PAGE_SIZE)
    {
        // Items come newest first, so a month's incidents are adjacent.
        match months.last_mut() {
            Some(month) if month.key == item.month_key => month.incidents.push(item.clone()),
            _ => months.push(HistoryMonth {
                key: item.month_key.clone(),
                label: item.month_label.clone(),
                incidents: vec![item.clone()],
            }),
        }
    }
    Ok(HistoryPageView {
        lang,
        page_name: front.page_name.clone(),
        time_zone: front.time_zone.clone(),
        page: u32::try_from(page).unwrap_or(u32::MAX),
        total_pages: u32::try_from(total_pages).unwrap_or(u32::MAX),
        months,
        version: front.version,
    })
}

/// The customer's own page: the signed-in customer's compensation and
/// claims, or the sign-in form. Never cached: it is one person's.
#[server(prefix = "/_sf", endpoint = "my_page")]
pub async fn my_page(lang: Option<Lang>) -> Result<crate::dto::MyPageView, ServerFnError> {
    let source = use_context::<crate::ports::SharedCustomerSource>()
        .ok_or_else(|| ServerFnError::new("customer pages missing from context"))?;
    let headers = use_context::<http::request::Parts>()
        .map(|parts| parts.headers)
        .unwrap_or_default();
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
    }
    source
        .my_page(headers, lang)
        .await
        .map_err(ServerFnError::new)
}
