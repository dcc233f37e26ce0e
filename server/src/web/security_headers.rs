//! Security headers on every response (docs/security.md).
//!
//! Every HTML page gets a Content-Security-Policy that allows exactly the
//! scripts it carries: its inline scripts by SHA-256 hash (Leptos' boot
//! script and resolved data, the console's one script) and the bundle from
//! our own origin, with `'wasm-unsafe-eval'` for the WebAssembly and no
//! `'unsafe-inline'` for scripts. Hashes rather than nonces because the
//! public pages are rendered once and served to everyone from memory; the
//! cached pages carry their policy with them (`Asset::as_page`), everything
//! else is hashed here on its way out.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_LENGTH, CONTENT_SECURITY_POLICY, REFERRER_POLICY,
    STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// What the headers depend on besides the request.
#[derive(Debug, Clone, Copy)]
pub struct SecurityPolicy {
    /// The public URL is https: browsers are told to use nothing else.
    pub hsts: bool,
}

/// The SHA-256 sources (`'sha256-…'`) of the inline scripts of a page: every
/// `<script>` without a `src`, its text exactly as sent.
pub fn inline_script_hashes(html: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = find(rest, b"<script") {
        let after = &rest[at + b"<script".len()..];
        // `<scripts>` or the like is not a script tag.
        if !after
            .first()
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'>')
        {
            rest = after;
            continue;
        }
        let Some(close) = after.iter().position(|b| *b == b'>') else {
            break;
        };
        let attributes = after[..close].to_ascii_lowercase();
        let text = &after[close + 1..];
        let Some(end) = find(text, b"</script>") else {
            break;
        };
        if find(&attributes, b" src=").is_none() && find(&attributes, b"\tsrc=").is_none() {
            let digest = Sha256::digest(&text[..end]);
            let source = format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            );
            if !out.contains(&source) {
                out.push(source);
            }
        }
        rest = &text[end + b"</script>".len()..];
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The policy of an HTML page with these inline scripts. `framed: false`
/// forbids every frame around it (the console, the customer's own page).
pub fn content_security_policy(html: &[u8], framed: bool) -> String {
    let hashes = inline_script_hashes(html);
    let mut scripts = String::from("'self' 'wasm-unsafe-eval'");
    for h in &hashes {
        scripts.push(' ');
        scripts.push_str(h);
    }
    let frames = if framed {
        ""
    } else {
        " frame-ancestors 'none';"
    };
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self';{frames}"
    )
    .trim_end_matches(';')
    .to_string()
}

/// Pages that must never sit inside another site's frame: the console and
/// the customer's own pages, where a click could be stolen.
pub fn never_framed(path: &str) -> bool {
    path.starts_with("/staff") || path == "/me" || path.contains("/me/") || path.ends_with("/me")
}

/// A URL carrying a secret (a sign-in link, a subscription's token): its
/// page is not kept in caches and the URL is not sent on as a referrer.
fn carries_token(request: &Request) -> bool {
    request
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv.starts_with("token=")))
}

/// Outermost middleware: the headers every response gets, and the policy
/// of any HTML page that does not have one yet.
pub async fn serve(State(policy): State<SecurityPolicy>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let token = carries_token(&request);
    let response = next.run(request).await;
    let is_html = crate::web::html::is_html(&response);
    let mut response = if is_html && !response.headers().contains_key(CONTENT_SECURITY_POLICY) {
        with_policy(response, never_framed(&path)).await
    } else {
        response
    };
    let h = response.headers_mut();
    if token {
        h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if never_framed(&path) {
        // For browsers that predate frame-ancestors.
        h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    insert_common(h, policy);
    response
}

/// The headers every response gets, whichever path answered it: this
/// middleware, or the front door's answers from the snapshot, which never
/// reach it.
pub fn insert_common(h: &mut HeaderMap, policy: SecurityPolicy) {
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !h.contains_key(REFERRER_POLICY) {
        h.insert(
            REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
    }
    if policy.hsts {
        h.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
}

/// Sets the policy of a page not cached with one, read from its body.
async fn with_policy(response: Response, never_framed: bool) -> Response {
    let (mut head, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, crate::web::html::MAX_PAGE_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "reading a page for its security policy failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    insert_policy(&mut head.headers, &bytes, !never_framed);
    head.headers.remove(CONTENT_LENGTH);
    Response::from_parts(head, Body::from(bytes))
}

/// Writes the policy of the page `html` into `headers`.
pub fn insert_policy(headers: &mut HeaderMap, html: &[u8], framed: bool) {
    match HeaderValue::from_str(&content_security_policy(html, framed)) {
        Ok(v) => {
            headers.insert(CONTENT_SECURITY_POLICY, v);
        }
        // Hashes and keywords are plain ASCII; this cannot happen, and if
        // it did, the strictest policy is the safe answer.
        Err(_) => {
            headers.insert(
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_hashed_and_bundles_are_not() {
        let page = br#"<head><script type="module" src="/pkg/a.js"></script>
<script type="module">import("/pkg/plaster.js")</script></head>
<body><scripts>not one</scripts><script>__RESOLVED_RESOURCES = [];</script>
<script>__RESOLVED_RESOURCES = [];</script></body>"#;
        let hashes = inline_script_hashes(page);
        let expect = |text: &str| {
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
            )
        };
        assert_eq!(
            hashes,
            vec![
                expect(r#"import("/pkg/plaster.js")"#),
                expect("__RESOLVED_RESOURCES = [];")
            ],
            "each inline script once, in order; none for a src"
        );
    }

    #[test]
    fn the_policy_allows_no_inline_script_it_does_not_name() {
        let policy = content_security_policy(b"<script>a()</script>", false);
        assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"));
        assert!(!policy
            .split(';')
            .any(|d| d.trim().starts_with("script-src") && d.contains("unsafe-inline")));
        assert!(policy.ends_with("frame-ancestors 'none'"), "{policy}");
        assert!(!content_security_policy(b"", true).contains("frame-ancestors"));
    }

    #[test]
    fn only_the_console_and_the_customer_pages_refuse_frames() {
        for path in ["/staff", "/staff/ledger", "/me", "/sv/me", "/me/claims/new"] {
            assert!(never_framed(path), "{path}");
        }
        for path in [
            "/",
            "/sv",
            "/incidents/x",
            "/history",
            "/api/v2/summary.json",
            "/meet",
        ] {
            assert!(!never_framed(path), "{path}");
        }
    }

    #[tokio::test]
    async fn an_https_public_url_adds_hsts_and_console_pages_get_their_policy() {
        use tower::ServiceExt;
        let app = |hsts| {
            axum::Router::new()
                .route(
                    "/staff/x",
                    axum::routing::get(|| async {
                        axum::response::Html("<p>x</p><script>go()</script>")
                    }),
                )
                .layer(axum::middleware::from_fn_with_state(
                    SecurityPolicy { hsts },
                    serve,
                ))
        };
        let request = || {
            axum::http::Request::builder()
                .uri("/staff/x")
                .body(Body::empty())
                .expect("request")
        };
        let r = app(true).oneshot(request()).await.expect("response");
        let h = r.headers();
        assert!(h[STRICT_TRANSPORT_SECURITY]
            .to_str()
            .expect("ascii")
            .starts_with("max-age="));
        assert_eq!(h[X_FRAME_OPTIONS], "DENY");
        let csp = h[CONTENT_SECURITY_POLICY].to_str().expect("ascii");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        let go = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"go()"));
        assert!(csp.contains(&format!("'sha256-{go}'")), "{csp}");
        let r = app(false).oneshot(request()).await.expect("response");
        assert!(!r.headers().contains_key(STRICT_TRANSPORT_SECURITY));
    }
}
