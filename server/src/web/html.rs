//! What the middlewares that read whole pages share.

/// More than any page needs: the bound for reading a rendered page whole.
pub(crate) const MAX_PAGE_BYTES: usize = 8 << 20;

/// Whether a response is an HTML page.
pub(crate) fn is_html(response: &axum::response::Response) -> bool {
    response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}
