//! The public HTML pages, rendered once per snapshot and language and then
//! served like the API: precompressed, with ETags and `Cache-Control`.
//!
//! Leptos renders a page the first time it is asked for after a rebuild
//! (the front pages are asked for at once by [`warm`]); everyone else gets
//! the stored bytes. Concurrent first requests wait for the one render
//! instead of each rendering it, which matters when a herd arrives just
//! after a write. The cache lives inside the snapshot, so a rebuild drops it.

use std::sync::Arc;

use app::dto::Lang;
use app::ports::StatusSource;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::status::public::Asset;
use crate::status::rendered_pages::PageKey;
use crate::status::snapshot::{Snapshot, SnapshotHolder};

/// History pages beyond this are rendered per request, so odd query strings
/// cannot grow the cache.
const MAX_CACHED_HISTORY_PAGE: u32 = 50;

/// The cache key for a request, or `None` for anything that is not a
/// public page known to the snapshot (those are rendered as usual).
pub fn key_for(request: &Request, snapshot: &Snapshot, default_lang: Lang) -> Option<PageKey> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return None;
    }
    let path = request.uri().path();
    let (prefix_lang, rest) = split_lang(path);
    let lang = prefix_lang.unwrap_or_else(|| {
        request
            .headers()
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(default_lang, |h| app::i18n::negotiate(h, default_lang))
    });
    let query = request.uri().query().unwrap_or("");
    let history_page = match rest {
        "" | "/" if query.is_empty() => None,
        "/history" => Some(history_page(query)?),
        _ if query.is_empty() => {
            let id = rest.strip_prefix("/incidents/")?;
            // Only incidents that exist: unknown ids must not fill the cache.
            snapshot.incidents.get(&lang)?.get(id)?;
            None
        }
        _ => return None,
    };
    Some(PageKey {
        path: path.to_string(),
        lang,
        history_page,
    })
}

/// `/sv/history` → (Some(Sv), "/history"); `/history` → (None, "/history").
fn split_lang(path: &str) -> (Option<Lang>, &str) {
    for lang in Lang::ALL {
        if let Some(rest) = path
            .strip_prefix('/')
            .and_then(|p| p.strip_prefix(lang.code()))
        {
            if rest.is_empty() || rest.starts_with('/') {
                return (Some(lang), rest);
            }
        }
    }
    (None, path)
}

/// The history page number of a query that holds nothing else, within the cached range.
fn history_page(query: &str) -> Option<u32> {
    if query.is_empty() {
        return Some(1);
    }
    let n = query.strip_prefix("page=")?.parse::<u32>().ok()?;
    (1..=MAX_CACHED_HISTORY_PAGE).contains(&n).then_some(n)
}

/// Middleware in front of the Leptos routes: answers public pages from
/// the snapshot's cache, rendering each at most once per snapshot.
pub async fn serve(
    State(holder): State<Arc<SnapshotHolder>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(snapshot) = holder.current() else {
        return next.run(request).await;
    };
    let Some(key) = key_for(&request, &snapshot, holder.default_lang()) else {
        return next.run(request).await;
    };
    let headers = request.headers().clone();
    let cell = snapshot.pages_html.cell(&key);
    let rendered = cell
        .get_or_try_init(|| render(next, request, key.lang, snapshot.built_at_ms))
        .await;
    match rendered {
        Ok(asset) => asset.respond(&headers, chrono::Utc::now().timestamp_millis()),
        // Not cacheable (an error page, say): this caller still gets it.
        Err(response) => response,
    }
}

/// Renders the page through Leptos with the request reduced to what the
/// page depends on, and keeps it if it is a complete, successful page.
async fn render(
    next: Next,
    request: Request,
    lang: Lang,
    built_at_ms: i64,
) -> Result<Arc<Asset>, Response> {
    let (parts, body) = request.into_parts();
    let mut plain = Request::builder()
        .method(Method::GET)
        .uri(parts.uri.clone())
        .version(parts.version);
    if let Some(headers) = plain.headers_mut() {
        // Exactly the language of the key, and nothing conditional or encoded.
        headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_static(lang.code()));
    }
    let Ok(plain) = plain.body(body) else {
        return Err(StatusCode::BAD_REQUEST.into_response());
    };
    let response = next.run(plain).await;
    let is_html = crate::web::html::is_html(&response);
    if response.status() != StatusCode::OK || !is_html {
        return Err(response);
    }
    let (head, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, crate::web::html::MAX_PAGE_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "reading a rendered page failed");
            return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        }
    };
    let built = tokio::task::spawn_blocking(move || {
        Asset::new("text/html; charset=utf-8", bytes.clone(), built_at_ms)
            .map(|asset| asset.as_page(lang))
            .map_err(|e| (e, bytes))
    })
    .await;
    match built {
        Ok(Ok(asset)) => Ok(Arc::new(asset)),
        Ok(Err((e, bytes))) => {
            // Serve what was rendered, uncached, rather than fail the reader.
            tracing::error!(error = %e, "compressing a rendered page failed");
            Err(Response::from_parts(head, Body::from(bytes)))
        }
        // The runtime is shutting down: not a fault, and nobody is waiting.
        Err(e) if e.is_cancelled() => {
            tracing::debug!("page compression cancelled by shutdown");
            Err(StatusCode::SERVICE_UNAVAILABLE.into_response())
        }
        Err(e) => {
            tracing::error!(error = %e, "compressing a rendered page failed");
            Err(StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
    }
}

/// The requests [`warm`] makes after each rebuild: every front page, in
/// every language a reader of `/` may negotiate.
pub fn warm_requests() -> Vec<Request> {
    let mut out = Vec::new();
    for lang in Lang::ALL {
        for path in ["/".to_string(), format!("/{}", lang.code())] {
            if let Ok(r) = Request::builder()
                .uri(path)
                .header(ACCEPT_LANGUAGE, lang.code())
                .body(Body::empty())
            {
                out.push(r);
            }
        }
    }
    out
}

/// Renders the front pages as soon as a new snapshot is in place, so the
/// first reader after a write does not pay for it. Runs until dropped.
pub async fn warm(router: axum::Router, snapshot: Arc<SnapshotHolder>) {
    use tower::ServiceExt;

    let mut built = snapshot.subscribe_built();
    loop {
        for request in warm_requests() {
            if let Err(e) = router.clone().oneshot(request).await {
                // Infallible in practice; logged rather than assumed.
                tracing::warn!(error = ?e, "warming a page failed");
            }
        }
        if built.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_prefixes_are_split_only_at_a_segment_boundary() {
        assert_eq!(split_lang("/sv"), (Some(Lang::Sv), ""));
        assert_eq!(split_lang("/nb/history"), (Some(Lang::Nb), "/history"));
        assert_eq!(split_lang("/svenska"), (None, "/svenska"));
        assert_eq!(split_lang("/history"), (None, "/history"));
    }

    #[test]
    fn only_plain_history_page_queries_are_cached() {
        assert_eq!(history_page(""), Some(1));
        assert_eq!(history_page("page=3"), Some(3));
        assert_eq!(history_page("page=0"), None);
        assert_eq!(history_page("page=999999"), None);
        assert_eq!(history_page("page=2&x=1"), None);
        assert_eq!(history_page("utm_source=x"), None);
    }
}
