//! Prebuilt response bodies. Everything costly (serialising, compressing,
//! hashing) happens once per snapshot; serving one is a map lookup, a few
//! header comparisons and a clone of reference-counted `Bytes`.

use std::io::Write;

use axum::body::Body;
use axum::http::header::{
    ACCEPT_ENCODING, ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_ENCODING,
    CONTENT_LANGUAGE, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LAST_MODIFIED,
    VARY,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use sha2::{Digest, Sha256};

/// Short enough to show a write within seconds, long enough that a burst of
/// readers at the worst moment mostly hits caches in front of us.
pub const CACHE_CONTROL_VALUE: &str = "public, max-age=5, stale-while-revalidate=30";

/// Seconds since the snapshot this response came from was built.
pub const SNAPSHOT_AGE: HeaderName = HeaderName::from_static("x-snapshot-age");

/// Brotli quality: 11 is several times slower for a few percent; a rebuild
/// compresses every asset, and it runs on each write.
const BROTLI_QUALITY: u32 = 9;
const BROTLI_WINDOW: u32 = 22;

#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    #[error("compressing an asset: {0}")]
    Compress(#[from] std::io::Error),
    #[error("an asset header is not valid: {0}")]
    Header(#[from] axum::http::header::InvalidHeaderValue),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    /// The best encoding the client accepts, preferring br, then gzip.
    /// An encoding listed with `q=0` is refused; `*` stands for any not listed.
    pub fn negotiate(accept: Option<&str>) -> Encoding {
        let Some(accept) = accept else {
            return Encoding::Identity;
        };
        let (mut br, mut gzip, mut star) = (None, None, None);
        for part in accept.split(',') {
            let mut pieces = part.split(';');
            let name = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .filter_map(|p| p.trim().strip_prefix("q=").map(str::trim))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let accepted = q > 0.0;
            match name.as_str() {
                "br" => br = Some(accepted),
                "gzip" | "x-gzip" => gzip = Some(accepted),
                "*" => star = Some(accepted),
                _ => {}
            }
        }
        let star = star.unwrap_or(false);
        if br.unwrap_or(star) {
            Encoding::Brotli
        } else if gzip.unwrap_or(star) {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }
}

/// One response, ready in every encoding we serve.
#[derive(Debug, Clone)]
pub struct Asset {
    pub content_type: HeaderValue,
    pub body: Bytes,
    pub gzip: Bytes,
    pub brotli: Bytes,
    /// Of the identity body; the encoded variants add a suffix, since a strong
    /// ETag names exact bytes.
    pub etag: HeaderValue,
    etag_gzip: HeaderValue,
    etag_brotli: HeaderValue,
    /// Opaque tag without quotes, for `If-None-Match` comparisons.
    tag: String,
    pub built_at_ms: i64,
    last_modified: HeaderValue,
    /// Whether other sites may fetch it (the API, feeds and badge are for widgets).
    pub cors: bool,
    /// For pages: their language, and that the same path may come in
    /// another language for another `Accept-Language`.
    content_language: Option<HeaderValue>,
    /// For pages: their Content-Security-Policy, naming their inline
    /// scripts by hash (crate::web::security_headers).
    csp: Option<HeaderValue>,
}

impl Asset {
    pub fn new(
        content_type: &'static str,
        body: impl Into<Bytes>,
        built_at_ms: i64,
    ) -> Result<Asset, AssetError> {
        let body: Bytes = body.into();
        let digest = Sha256::digest(&body);
        let tag: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();

        let mut gz = flate2::write::GzEncoder::new(
            Vec::with_capacity(body.len() / 3),
            flate2::Compression::best(),
        );
        gz.write_all(&body)?;
        let gzip = Bytes::from(gz.finish()?);

        let mut br = Vec::with_capacity(body.len() / 3);
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 4096, BROTLI_QUALITY, BROTLI_WINDOW);
            w.write_all(&body)?;
            w.flush()?;
        }
        let built = std::time::UNIX_EPOCH
            + std::time::Duration::from_millis(u64::try_from(built_at_ms).unwrap_or(0));
        Ok(Asset {
            content_type: HeaderValue::from_static(content_type),
            etag: HeaderValue::from_str(&format!("\"{tag}\""))?,
            etag_gzip: HeaderValue::from_str(&format!("\"{tag}-gzip\""))?,
            etag_brotli: HeaderValue::from_str(&format!("\"{tag}-br\""))?,
            last_modified: HeaderValue::from_str(&httpdate::fmt_http_date(built))?,
            tag,
            body,
            gzip,
            brotli: Bytes::from(br),
            built_at_ms,
            cors: true,
            content_language: None,
            csp: None,
        })
    }

    /// A public HTML page in `lang`: same-origin only, and varying by language.
    pub fn as_page(mut self, lang: app::dto::Lang) -> Asset {
        self.cors = false;
        self.content_language = Some(HeaderValue::from_static(lang.code()));
        let mut policy = HeaderMap::new();
        crate::web::security_headers::insert_policy(&mut policy, &self.body, true);
        self.csp = policy.remove(CONTENT_SECURITY_POLICY);
        self
    }

    /// Whether `If-None-Match` names this content in any of its encodings.
    fn matches(&self, if_none_match: &str) -> bool {
        if_none_match.split(',').any(|t| {
            let t = t.trim();
            if t == "*" {
                return true;
            }
            // Weak comparison, as RFC 9110 asks for If-None-Match.
            let t = t.strip_prefix("W/").unwrap_or(t).trim_matches('"');
            let base = t
                .strip_suffix("-gzip")
                .or_else(|| t.strip_suffix("-br"))
                .unwrap_or(t);
            base == self.tag
        })
    }

    /// The response for a request with these headers, at `now_ms`.
    pub fn respond(&self, request: &HeaderMap, now_ms: i64) -> Response {
        let encoding =
            Encoding::negotiate(request.get(ACCEPT_ENCODING).and_then(|v| v.to_str().ok()));
        let (body, etag, content_encoding) = match encoding {
            Encoding::Brotli => (&self.brotli, &self.etag_brotli, Some("br")),
            Encoding::Gzip => (&self.gzip, &self.etag_gzip, Some("gzip")),
            Encoding::Identity => (&self.body, &self.etag, None),
        };
        let not_modified = request
            .get(IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| self.matches(v));

        // Built in place: going through a tuple's `IntoResponse` would build
        // a second header map and copy this one into it, on every request.
        let mut response = if not_modified {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::NOT_MODIFIED;
            r
        } else {
            Response::new(Body::from(body.clone()))
        };
        let headers = response.headers_mut();
        headers.reserve(11);
        headers.insert(ETAG, etag.clone());
        match &self.content_language {
            Some(lang) => {
                headers.insert(
                    VARY,
                    HeaderValue::from_static("Accept-Encoding, Accept-Language"),
                );
                headers.insert(CONTENT_LANGUAGE, lang.clone());
            }
            None => {
                headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
            }
        }
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL_VALUE));
        headers.insert(LAST_MODIFIED, self.last_modified.clone());
        headers.insert(
            SNAPSHOT_AGE,
            HeaderValue::from((now_ms - self.built_at_ms).max(0) / 1000),
        );
        if self.cors {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        }
        headers.insert(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if let Some(csp) = &self.csp {
            headers.insert(CONTENT_SECURITY_POLICY, csp.clone());
        }
        if !not_modified {
            headers.insert(CONTENT_TYPE, self.content_type.clone());
            if let Some(enc) = content_encoding {
                headers.insert(CONTENT_ENCODING, HeaderValue::from_static(enc));
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn negotiation_prefers_brotli_then_gzip_and_honours_q_zero() {
        assert_eq!(Encoding::negotiate(None), Encoding::Identity);
        assert_eq!(
            Encoding::negotiate(Some("gzip, deflate, br")),
            Encoding::Brotli
        );
        assert_eq!(Encoding::negotiate(Some("gzip")), Encoding::Gzip);
        assert_eq!(
            Encoding::negotiate(Some("br;q=0, gzip;q=0.5")),
            Encoding::Gzip
        );
        assert_eq!(Encoding::negotiate(Some("*")), Encoding::Brotli);
        assert_eq!(
            Encoding::negotiate(Some("*;q=0, identity")),
            Encoding::Identity
        );
        assert_eq!(Encoding::negotiate(Some("deflate")), Encoding::Identity);
    }

    #[test]
    fn encoded_bodies_decode_to_the_identity_body() {
        let text = "{\"status\":\"operational\"}".repeat(100);
        let asset = Asset::new("application/json", text.clone(), 0).expect("asset");
        let mut out = String::new();
        flate2::read::GzDecoder::new(&asset.gzip[..])
            .read_to_string(&mut out)
            .expect("gunzip");
        assert_eq!(out, text);
        let mut out = String::new();
        brotli::Decompressor::new(&asset.brotli[..], 4096)
            .read_to_string(&mut out)
            .expect("unbrotli");
        assert_eq!(out, text);
        assert!(asset.brotli.len() < text.len() / 4);
    }

    #[test]
    fn if_none_match_answers_304_for_any_encoding_of_the_same_content() {
        let asset = Asset::new("text/plain", "hello", 0).expect("asset");
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("br"));
        let first = asset.respond(&headers, 3_000);
        assert_eq!(first.status(), StatusCode::OK);
        assert_eq!(first.headers()[SNAPSHOT_AGE], "3");
        let etag = first.headers()[ETAG].clone();
        headers.insert(IF_NONE_MATCH, etag);
        assert_eq!(
            asset.respond(&headers, 0).status(),
            StatusCode::NOT_MODIFIED
        );
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        assert_eq!(
            asset.respond(&headers, 0).status(),
            StatusCode::NOT_MODIFIED
        );
        headers.insert(
            IF_NONE_MATCH,
            HeaderValue::from_static("\"other\", W/\"nope\""),
        );
        assert_eq!(asset.respond(&headers, 0).status(), StatusCode::OK);
    }
}
