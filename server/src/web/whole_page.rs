//! Public pages arrive as one valid document.
//!
//! Leptos writes a page's resolved data (`__RESOLVED_RESOURCES`, ...) as
//! `<script>`s after `</html>`: it streams, and the data is known only once
//! the markup is out. A browser quietly moves them into the body; the W3C
//! validator rightly reports them. The public pages render whole anyway
//! (`SsrMode::Async`, and the front pages are cached as bytes), so here the
//! trailing scripts are put where they belong, before `</body>`. The data
//! still precedes the module script's run: module scripts wait for the
//! whole document to be parsed.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

const BODY_END: &[u8] = b"</body></html>";

/// Middleware in front of the Leptos routes (not the console, the API or
/// the server functions, whose answers are not Leptos documents).
pub async fn serve(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let leptos_page = matches!(*request.method(), Method::GET | Method::HEAD)
        && !path.starts_with("/staff")
        && !path.starts_with("/api")
        && !path.starts_with("/_sf")
        && !path.starts_with("/pkg");
    let response = next.run(request).await;
    let is_html = crate::web::html::is_html(&response);
    if !leptos_page || !is_html {
        return response;
    }
    let (mut head, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, crate::web::html::MAX_PAGE_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) => {
            // The body failed or was too large: nothing sensible to send.
            tracing::error!(error = %e, "reading a rendered page failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let fixed = scripts_inside_body(&bytes).map_or(bytes, Into::into);
    head.headers.remove(CONTENT_LENGTH);
    Response::from_parts(head, Body::from(fixed))
}

/// The document with whatever follows its last `</body></html>` moved in
/// front of that `</body>`, or `None` when nothing follows it.
pub fn scripts_inside_body(html: &[u8]) -> Option<Vec<u8>> {
    let end = html.windows(BODY_END.len()).rposition(|w| w == BODY_END)?;
    let trailing = &html[end + BODY_END.len()..];
    if trailing.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let mut out = Vec::with_capacity(html.len());
    out.extend_from_slice(&html[..end]);
    out.extend_from_slice(trailing);
    out.extend_from_slice(BODY_END);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_scripts_move_inside_the_body() {
        let page = b"<html><body><p>x</p></body></html><script>a=1</script><script>b=2</script>";
        let fixed = scripts_inside_body(page).expect("moved");
        assert_eq!(
            String::from_utf8_lossy(&fixed),
            "<html><body><p>x</p><script>a=1</script><script>b=2</script></body></html>"
        );
    }

    #[test]
    fn a_page_that_ends_with_its_document_is_left_alone() {
        assert_eq!(scripts_inside_body(b"<html><body></body></html>\n"), None);
        assert_eq!(scripts_inside_body(b"no document at all"), None);
    }
}
