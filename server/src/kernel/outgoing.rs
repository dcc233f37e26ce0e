//! Every HTTP request Plaster makes to an address someone typed in (webhook
//! receivers now, payout endpoints next) goes through [`client`]: it refuses
//! loopback, private, link-local and other non-public addresses when it
//! connects (after DNS resolution, so a public-looking name cannot point
//! inward), follows no redirect, uses no proxy, and its errors are told to
//! staff in plain words without the target's own text ([`describe`]). An
//! answer's body is read only through [`read_bounded`], never past
//! [`ANSWER_LIMIT`].
//!
//! `PLASTER_OUTGOING_ALLOW` lists ranges allowed anyway (a receiver on the
//! operator's own network; the tests' loopback receivers).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// One address range, `10.0.0.0/8` or `::1/128` (a bare address is one host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    net: IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let net: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an address range such as 10.0.0.0/8 or ::1"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
            None => max,
        };
        Ok(IpRange { net, prefix })
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.net, self.prefix)
    }
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Whether `ip` is on the public internet: not loopback, private, shared
/// (CGNAT), link-local, unspecified, broadcast, multicast, documentation,
/// benchmarking or reserved, in either family (IPv4-mapped, NAT64 and 6to4
/// forms are judged by the IPv4 address inside).
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded_v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return public_v4(embedded_v4(s[6], s[7])); // NAT64
    }
    if s[0] == 0x2002 {
        return public_v4(embedded_v4(s[1], s[2])); // 6to4
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard
        || s[0..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible and other reserved
}

/// Which addresses outgoing requests may reach.
#[derive(Debug, Clone, Default)]
pub struct OutgoingPolicy {
    allowed: Arc<Vec<IpRange>>,
}

impl OutgoingPolicy {
    pub fn allowing(ranges: Vec<IpRange>) -> OutgoingPolicy {
        OutgoingPolicy {
            allowed: Arc::new(ranges),
        }
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allowed.iter().any(|r| r.contains(ip))
    }

    pub fn allowed(&self) -> &[IpRange] {
        &self.allowed
    }
}

/// The marker of a refusal in an error chain, which [`describe`] looks for.
const REFUSED: &str = "is not a public address";

#[derive(Debug)]
struct Refused(IpAddr);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {REFUSED}", self.0)
    }
}

impl std::error::Error for Refused {}

/// Resolves names as the system does, then drops every address the policy
/// refuses; a name with none left fails to connect.
struct GuardedResolver(OutgoingPolicy);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.permits(a.ip()))
                .collect();
            match (allowed.is_empty(), found.first()) {
                (true, Some(first)) => Err(Box::new(Refused(first.ip())) as _),
                _ => Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs),
            }
        })
    }
}

/// The one client for requests to configured URLs.
pub fn client(policy: &OutgoingPolicy, user_agent: &str, timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .user_agent(user_agent)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
        .build()
        .unwrap_or_default()
}

/// Why a URL may not be called, before any connection: a host written as
/// an address is not resolved, so it is judged here.
pub fn check_url(policy: &OutgoingPolicy, url: &url::Url) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err("only http and https URLs are called".into());
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err("the URL has no host".into()),
    };
    if policy.permits(ip) {
        Ok(())
    } else {
        Err(format!(
            "{ip} {REFUSED} (list it in PLASTER_OUTGOING_ALLOW to allow it)"
        ))
    }
}

/// The most of an answer's body Plaster reads. A payout endpoint's results
/// for a full batch (100 payouts, each with a reason of up to 500
/// characters) fit several times over; webhook answers are not read at all.
pub const ANSWER_LIMIT: usize = 256 * 1024;

/// An answer's body, read up to a bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundedBody {
    /// The first bytes of the body, at most the bound (none when the
    /// answer's own length was over the bound already).
    pub bytes: Vec<u8>,
    /// The whole body was read: it was no longer than the bound.
    pub complete: bool,
}

/// Reads at most `limit` bytes of an answer's body, chunk by chunk, and
/// stops there: the rest is never read (dropping the answer closes its
/// connection), so a receiver cannot make Plaster hold an answer of any
/// size. Every outgoing answer that is read is read through here.
pub async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<BoundedBody, reqwest::Error> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Ok(BoundedBody {
            bytes: Vec::new(),
            complete: false,
        });
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = limit.saturating_sub(bytes.len());
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            return Ok(BoundedBody {
                bytes,
                complete: false,
            });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(BoundedBody {
        bytes,
        complete: true,
    })
}

/// A failed request in words for staff: what kind of failure, never the
/// target's own text (which may be anything an attacker wants shown).
pub fn describe(e: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<Refused>() {
            return format!("refused: {r} (list it in PLASTER_OUTGOING_ALLOW to allow it)");
        }
        // Our own refusal, however the connector wrapped it: safe to show.
        if s.to_string().ends_with(REFUSED) {
            return format!("refused: {s} (list it in PLASTER_OUTGOING_ALLOW to allow it)");
        }
        source = s.source();
    }
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else if e.is_redirect() {
        "answered with a redirect, which is not followed".into()
    } else if e.is_body() || e.is_decode() {
        "the answer broke off".into()
    } else {
        "the request failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A receiver on loopback answering 10 MB at `/sized` (with its
    /// length) and at `/chunked` (streamed, no length), and 5 bytes at
    /// `/small`.
    async fn flooding_receiver() -> String {
        const TEN_MB: usize = 10 * 1024 * 1024;
        let app = axum::Router::new()
            .route(
                "/sized",
                axum::routing::get(|| async { "x".repeat(TEN_MB) }),
            )
            .route(
                "/chunked",
                axum::routing::get(|| async {
                    let chunks = (0..TEN_MB / 65_536)
                        .map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'x'; 65_536])));
                    axum::body::Body::from_stream(futures_util::stream::iter(chunks))
                }),
            )
            .route("/small", axum::routing::get(|| async { "hello" }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}")
    }

    #[tokio::test]
    async fn an_answer_is_read_no_further_than_its_bound() {
        let base = flooding_receiver().await;
        let http = client(
            &OutgoingPolicy::default(),
            "Plaster-Test",
            Duration::from_secs(10),
        );
        let get = |path: &str| http.get(format!("{base}{path}")).send();
        for path in ["/sized", "/chunked"] {
            let answer = get(path).await.expect("answer");
            let body = read_bounded(answer, ANSWER_LIMIT).await.expect("read");
            assert!(!body.complete, "{path}: 10 MB is over the bound");
            assert!(
                body.bytes.len() <= ANSWER_LIMIT,
                "{path}: {}",
                body.bytes.len()
            );
        }
        let chunked = read_bounded(get("/chunked").await.expect("answer"), ANSWER_LIMIT)
            .await
            .expect("read");
        assert_eq!(
            chunked.bytes.len(),
            ANSWER_LIMIT,
            "read up to the bound exactly"
        );
        let small = read_bounded(get("/small").await.expect("answer"), ANSWER_LIMIT)
            .await
            .expect("read");
        assert_eq!(
            small,
            BoundedBody {
                bytes: b"hello".to_vec(),
                complete: true
            }
        );
        let exact = read_bounded(get("/small").await.expect("answer"), 5)
            .await
            .expect("read");
        assert!(exact.complete, "a body of exactly the bound is whole");
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn only_public_addresses_are_public_in_every_spelling() {
        for inward in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "192.0.2.1",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2001:db8::1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(ip(inward)), "{inward} must not count as public");
        }
        for public in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
            "2002:0101:0101::",
        ] {
            assert!(is_public(ip(public)), "{public} is public");
        }
    }

    #[test]
    fn allowed_ranges_open_exactly_themselves() {
        let policy = OutgoingPolicy::allowing(vec![
            "127.0.0.0/8".parse().expect("range"),
            "fd00::/8".parse().expect("range"),
        ]);
        assert!(policy.permits(ip("127.9.9.9")) && policy.permits(ip("::ffff:127.0.0.1")));
        assert!(policy.permits(ip("fd12::1")) && !policy.permits(ip("fc00::1")));
        assert!(!policy.permits(ip("10.0.0.1")));
        assert!("10.0.0.0/33".parse::<IpRange>().is_err());
        assert!("lan".parse::<IpRange>().is_err());
        let url = url::Url::parse("http://169.254.169.254/latest/meta-data").expect("url");
        assert!(check_url(&policy, &url).unwrap_err().contains(REFUSED));
        assert!(check_url(
            &policy,
            &url::Url::parse("http://127.0.0.1:9/").expect("url")
        )
        .is_ok());
        assert!(check_url(
            &policy,
            &url::Url::parse("ftp://example.com/").expect("url")
        )
        .is_err());
    }
}
