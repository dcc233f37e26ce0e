//! Session cookies: HttpOnly, SameSite=Lax, and over HTTPS named with the
//! `__Host-` prefix, which browsers accept only from a secure origin, with
//! `Path=/` and no `Domain`, so neither a sibling subdomain nor a plain-HTTP
//! man in the middle can plant or overwrite one.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};

/// The name a cookie goes by: `__Host-<base>` over HTTPS, `<base>` otherwise
/// (browsers refuse the prefix without `Secure`).
pub fn name(base: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

/// The value of the cookie `base` in a request. Over HTTPS only the
/// prefixed name counts: an unprefixed one may have been planted.
pub fn value(headers: &HeaderMap, base: &str, secure: bool) -> Option<String> {
    let wanted = name(base, secure);
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| cookie::Cookie::parse(pair.trim().to_string()).ok())
        .find(|c| c.name() == wanted)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` for `base`; `None` deletes it. Over plain HTTP the cookie
/// is scoped to `plain_path`; the `__Host-` prefix requires `Path=/`.
pub fn set(base: &str, value: Option<&str>, secure: bool, plain_path: &str) -> Option<HeaderValue> {
    let mut c = cookie::Cookie::build((name(base, secure), value.unwrap_or("").to_string()))
        .path(if secure { "/" } else { plain_path }.to_string())
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(secure);
    if value.is_none() {
        c = c.max_age(cookie::time::Duration::ZERO);
    }
    HeaderValue::from_str(&c.build().to_string()).ok()
}

pub fn append(headers: &mut HeaderMap, cookie: Option<HeaderValue>) {
    if let Some(cookie) = cookie {
        headers.append(SET_COOKIE, cookie);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_https_cookies_are_host_prefixed_secure_and_path_root() {
        let c = set("plaster_session", Some("abc"), true, "/staff").expect("cookie");
        let c = c.to_str().expect("ascii");
        assert!(c.starts_with("__Host-plaster_session=abc"), "{c}");
        for part in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
            assert!(c.contains(part), "{part} in {c}");
        }
        assert!(!c.contains("Domain"), "{c}");
        let plain = set("plaster_session", Some("abc"), false, "/staff").expect("cookie");
        let plain = plain.to_str().expect("ascii");
        assert!(plain.starts_with("plaster_session=abc") && plain.contains("Path=/staff"));
        assert!(!plain.contains("Secure"), "{plain}");
    }

    #[test]
    fn over_https_an_unprefixed_cookie_is_ignored() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=1; plaster_session=planted; b=2"),
        );
        assert_eq!(
            value(&h, "plaster_session", false).as_deref(),
            Some("planted")
        );
        assert_eq!(value(&h, "plaster_session", true), None);
        h.insert(
            COOKIE,
            HeaderValue::from_static("plaster_session=planted; __Host-plaster_session=real"),
        );
        assert_eq!(value(&h, "plaster_session", true).as_deref(), Some("real"));
    }
}
