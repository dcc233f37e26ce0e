//! The client of a request, for limits per client. It is the TCP peer, or,
//! when the peer is the configured reverse proxy (`PLASTER_TRUSTED_PROXY`),
//! the address that proxy put last in `X-Forwarded-For`; from any other
//! peer the header is ignored, so a client cannot choose its own key.
//!
//! Limits key on the client's network, not its exact address: an IPv4
//! address is one client, and so is an IPv6 /64 (one household or one
//! machine gets a whole /64 and may pick any address in it).

use std::convert::Infallible;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;

/// The client's key as text: `203.0.113.7`, `2001:db8:1:2::/64`, or
/// `unknown` where the server was not started with connection info (a
/// router driven directly in a test).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr(pub String);

/// Whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrustedProxy(pub Option<IpAddr>);

/// The key limits use for `ip`.
pub fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
        },
    }
}

/// The client's address: the peer's, or the trusted proxy's last word.
pub fn client_ip(
    parts_peer: Option<IpAddr>,
    forwarded: Option<&str>,
    proxy: TrustedProxy,
) -> Option<IpAddr> {
    let peer = parts_peer?;
    if proxy.0 != Some(peer) {
        return Some(peer);
    }
    // The proxy appends the address it saw; what comes before is the
    // client's own say and is not believed.
    forwarded
        .and_then(|f| f.rsplit(',').next())
        .and_then(|last| last.trim().parse::<IpAddr>().ok())
        .or(Some(peer))
}

/// Resolves the client once per request, for the extractor below and the
/// public write limiter.
pub async fn resolve(
    State(proxy): State<TrustedProxy>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let forwarded = request
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let key = client_ip(peer, forwarded, proxy).map_or_else(|| "unknown".into(), client_key);
    request.extensions_mut().insert(ClientAddr(key));
    next.run(request).await
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(resolved) = parts.extensions.get::<ClientAddr>() {
            return Ok(resolved.clone());
        }
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_string(), |c| client_key(c.0.ip())),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_64_is_one_client_and_an_ipv4_address_is_one() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        assert_eq!(client_key(a), "2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().expect("ip");
        assert_eq!(client_key(mapped), "203.0.113.7");
    }

    #[test]
    fn forwarded_for_is_believed_only_from_the_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.2".parse().expect("ip");
        let client: IpAddr = "198.51.100.9".parse().expect("ip");
        let trusted = TrustedProxy(Some(proxy));
        // The proxy's last word, not what the client claimed before it.
        assert_eq!(
            client_ip(Some(proxy), Some("1.2.3.4, 198.51.100.9"), trusted),
            Some(client)
        );
        // Anyone else's header is ignored.
        assert_eq!(
            client_ip(Some(client), Some("1.2.3.4"), trusted),
            Some(client)
        );
        assert_eq!(
            client_ip(Some(proxy), Some("1.2.3.4"), TrustedProxy(None)),
            Some(proxy)
        );
        // A proxy that sent garbage: the proxy itself is the client.
        assert_eq!(
            client_ip(Some(proxy), Some("nonsense"), trusted),
            Some(proxy)
        );
    }
}
