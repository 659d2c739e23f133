//! The client's address, for the limits: the TCP peer, unless the peer is one of the trusted
//! proxies (`AFTERCARE_TRUSTED_PROXIES`); then the right-most address of `X-Forwarded-For` (or,
//! without one, of `Forwarded`) that is not a trusted proxy.
//!
//! Right-most, because a proxy appends the address it saw to what the client sent: whatever is
//! left of the last trusted hop was written by the client and may be forged. `X-Forwarded-For` is
//! read before `Forwarded` because it is what nginx, HAProxy and most load balancers append to; a
//! proxy that sets only `Forwarded` must drop a client's `X-Forwarded-For`.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header::HeaderMap;

use crate::config::{Cidr, HttpSettings};

/// The client's address: `peer` unless it is a trusted proxy, in which case the right-most address
/// of the forwarding headers that is not one. When every forwarded address is trusted, the
/// left-most is the client; when one can't be read, the trusted hop after it is.
pub fn client_addr(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[Cidr]) -> Option<IpAddr> {
    let peer = peer.map(|p| p.to_canonical());
    let is_trusted = |a: IpAddr| trusted.iter().any(|c| c.contains(a));
    let Some(mut client) = peer.filter(|p| is_trusted(*p)) else {
        return peer;
    };
    for hop in forwarded(headers).into_iter().rev() {
        let Some(addr) = hop else { break };
        client = addr;
        if !is_trusted(addr) {
            break;
        }
    }
    Some(client)
}

/// The client's address of `req`, with the trusted proxies of the app's settings.
pub fn of(req: &HttpRequest) -> Option<IpAddr> {
    client_addr(req.peer_addr().map(|a| a.ip()), req.headers(), trusted(req))
}

/// Whether `req` comes straight from one of the trusted proxies (so that its forwarded headers
/// may be believed).
pub fn from_trusted_proxy(req: &HttpRequest) -> bool {
    req.peer_addr()
        .is_some_and(|p| trusted(req).iter().any(|c| c.contains(p.ip())))
}

fn trusted(req: &HttpRequest) -> &[Cidr] {
    req.app_data::<actix_web::web::Data<HttpSettings>>()
        .map(|h| h.trusted_proxies.as_slice())
        .unwrap_or_default()
}

/// The addresses the forwarding headers list, first hop first; None for one that isn't an address
/// (`unknown`, an obfuscated identifier, garbage).
fn forwarded(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name| {
        headers
            .get_all(name)
            .map(|v| v.to_str().unwrap_or(""))
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>()
    };
    let xff = values("x-forwarded-for");
    if !xff.is_empty() {
        return xff.into_iter().map(parse_hop).collect();
    }
    values("forwarded")
        .into_iter()
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, v)| parse_hop(v.trim().trim_matches('"')))
        })
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:443`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:443`.
fn parse_hop(s: &str) -> Option<IpAddr> {
    if let Ok(a) = s.parse::<IpAddr>() {
        return Some(a.to_canonical());
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (inside, _) = rest.split_once(']')?;
        return inside.parse::<IpAddr>().ok().map(|a| a.to_canonical());
    }
    s.parse::<std::net::SocketAddr>()
        .ok()
        .map(|a| a.ip().to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_list;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=203.0.113.8"),
        ]);
        assert_eq!(client_addr(ip("198.51.100.1"), &h, &[]), ip("198.51.100.1"));
        let trusted = parse_list("10.0.0.0/8").unwrap();
        assert_eq!(
            client_addr(ip("198.51.100.1"), &h, &trusted),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_address_is_the_client() {
        let trusted = parse_list("10.0.0.0/8, 2001:db8:aa::/48").unwrap();
        // The client forged two addresses; the proxy appended the one it saw.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 5.6.7.8, 198.51.100.7")]);
        assert_eq!(
            client_addr(ip("10.0.0.2"), &h, &trusted),
            ip("198.51.100.7")
        );
        // Two proxies in a row, the headers on two lines.
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4, 198.51.100.7"),
            ("x-forwarded-for", "10.9.9.9"),
        ]);
        assert_eq!(
            client_addr(ip("10.0.0.2"), &h, &trusted),
            ip("198.51.100.7")
        );
        // No header: the proxy itself.
        assert_eq!(
            client_addr(ip("10.0.0.2"), &HeaderMap::new(), &trusted),
            ip("10.0.0.2")
        );
        // Only trusted hops: the left-most.
        let h = headers(&[("x-forwarded-for", "10.1.1.1, 10.2.2.2")]);
        assert_eq!(client_addr(ip("10.0.0.2"), &h, &trusted), ip("10.1.1.1"));
        // Garbage before the client's hop stops the walk at the last trusted one.
        let h = headers(&[("x-forwarded-for", "198.51.100.7, nonsense, 10.2.2.2")]);
        assert_eq!(client_addr(ip("10.0.0.2"), &h, &trusted), ip("10.2.2.2"));
        // IPv4-mapped peers are the IPv4 address.
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(
            client_addr(ip("::ffff:10.0.0.2"), &h, &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_addr(ip("2001:db8:aa::1"), &h, &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let trusted = parse_list("10.0.0.0/8").unwrap();
        let h = headers(&[(
            "forwarded",
            r#"for=1.2.3.4;proto=https, for="[2001:db8:cafe::17]:4711";by=10.0.0.2, For=10.3.3.3"#,
        )]);
        assert_eq!(
            client_addr(ip("10.0.0.2"), &h, &trusted),
            ip("2001:db8:cafe::17")
        );
        let h = headers(&[("forwarded", "for=198.51.100.3:8443")]);
        assert_eq!(
            client_addr(ip("10.0.0.2"), &h, &trusted),
            ip("198.51.100.3")
        );
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(client_addr(ip("10.0.0.2"), &h, &trusted), ip("10.0.0.2"));
    }
}
