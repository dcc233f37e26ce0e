//! Where a state-changing request came from: one rule for the staff
//! console's guard, the staff sign-in forms, the customers' pages and the
//! subscription forms.
//!
//! A browser says which site a request came from: `Sec-Fetch-Site` (every
//! current browser), else `Origin`. A request from another site is refused
//! before its form is acted on, token or not, so a forged form cannot sign
//! anyone in or out, nor change anything in their name. A request with
//! neither header is no browser's cross-site form (a script, a mail
//! provider's RFC 8058 POST): it passes this check, and meets the route's
//! own (a CSRF token, a token in the URL).

use axum::extract::Request;
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// True when the browser says the request came from another site: by
/// `Sec-Fetch-Site` where it is sent (only `same-origin` and `none`, a
/// request the user made themselves, pass), else by `Origin`, whose host
/// must be the request's `Host`.
///
/// `Origin: null` decides nothing: a page sent with `Referrer-Policy:
/// no-referrer` (the sign-in link's, the subscription links') sends it for
/// its own forms. A browser that sends `null` from another site sends
/// `Sec-Fetch-Site` too, and the staff console checks its token as well.
pub fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return false;
    };
    let Ok(origin) = origin.to_str() else {
        return true;
    };
    if origin == "null" {
        return false;
    }
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'));
    !matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// The answer to a cross-site form on a public page.
pub fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        "This form must be sent from this site's own page.",
    )
        .into_response()
}

/// Middleware for public routers (`route_layer`): every request but GET,
/// HEAD and OPTIONS that [`cross_site`] says came from another site is
/// refused with [`forbidden`], before its handler reads anything. A route
/// added to such a router is covered without a line of its own.
pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && cross_site(request.headers()) {
        return forbidden();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const HOST_HERE: &str = "status.example.se";

    /// A request to [`HOST_HERE`] with these headers: cross-site?
    fn cross(pairs: &[(&'static str, &'static str)]) -> bool {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_static(HOST_HERE));
        for &(k, v) in pairs {
            h.insert(k, HeaderValue::from_static(v));
        }
        cross_site(&h)
    }

    #[test]
    fn origin_must_name_this_host() {
        assert!(!cross(&[]), "no browser headers: a script, a mail provider");
        assert!(!cross(&[("origin", "https://status.example.se")]));
        assert!(!cross(&[("origin", "https://Status.Example.se/")]));
        assert!(
            !cross(&[("origin", "null")]),
            "a no-referrer page's own form"
        );
        assert!(cross(&[("origin", "https://evil.example")]));
        assert!(cross(&[(
            "origin",
            "https://status.example.se.evil.example"
        )]));
        assert!(cross(&[("origin", "status.example.se")]), "not an origin");
        let mut no_host = HeaderMap::new();
        no_host.insert(
            ORIGIN,
            HeaderValue::from_static("https://status.example.se"),
        );
        assert!(cross_site(&no_host), "nothing to compare with");
    }

    #[test]
    fn sec_fetch_site_decides_where_it_is_sent() {
        for site in ["cross-site", "same-site"] {
            assert!(cross(&[("sec-fetch-site", site)]), "{site}");
            let own = ("origin", "https://status.example.se");
            assert!(cross(&[("sec-fetch-site", site), own]), "{site}");
        }
        for site in ["same-origin", "none"] {
            assert!(!cross(&[("sec-fetch-site", site)]), "{site}");
            let foreign = ("origin", "https://evil.example");
            assert!(!cross(&[("sec-fetch-site", site), foreign]), "{site}");
        }
    }
}
