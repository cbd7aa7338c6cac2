//! The client's address: the TCP peer, or — only when the peer is one of
//! `HERALD_TRUSTED_PROXIES` — the address the proxy put in `X-Forwarded-For`.
//!
//! Trusting the header from anyone would let every request pick its own
//! address and walk around the sign-in limits, so by default (no trusted
//! proxies) the header is ignored. With a proxy in front, the header is read
//! the way nginx's `real_ip_recursive on` reads it: from the right, skipping
//! addresses that are themselves trusted proxies; the first one that is not
//! is the client. Entries to its left were written by the client and are
//! never believed. Limits: at most `MAX_HOPS` entries are looked at.

use std::{net::IpAddr, str::FromStr};

use http::HeaderMap;
use ipnet::IpNet;

/// Entries of `X-Forwarded-For` examined from the right; a longer chain is
/// cut there (and its client taken to be the last trusted hop reached).
const MAX_HOPS: usize = 16;

/// Proxies whose `X-Forwarded-For` is believed: single addresses or CIDR
/// blocks, IPv4 and IPv6.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// Comma-separated `10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`…; empty
    /// entries are skipped, anything else unparsable is an error naming it.
    fn from_str(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                IpNet::from_str(entry)
                    .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| format!("{entry:?} is not an IP address or CIDR block"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }
}

/// The address sign-in limits (and logs) should see for a request that
/// arrived from `peer`.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.contains(peer) {
        return peer;
    }
    // Every X-Forwarded-For line, in order, as one comma-separated list.
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev().take(MAX_HOPS) {
        // Garbage means the chain can no longer be followed: the nearest hop
        // we trust is the best answer (a client cannot choose it).
        let Some(ip) = parse_hop(entry) else {
            return client;
        };
        client = canonical(ip);
        if !trusted.contains(client) {
            return client;
        }
    }
    client
}

/// An `X-Forwarded-For` entry: a bare address, `[v6]`, `[v6]:port` or `v4:port`.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    let (host, port) = entry.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// An IPv4 client seen through an IPv6 socket (`::ffff:a.b.c.d`) is that
/// IPv4 client.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn xff(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_addresses_and_blocks_of_both_families() {
        let t: TrustedProxies = " 127.0.0.1, 10.0.0.0/8 ,::1,fd00::/8,,192.168.1.7/16"
            .parse()
            .unwrap();
        assert!(t.contains(ip("127.0.0.1")));
        assert!(!t.contains(ip("127.0.0.2")));
        assert!(t.contains(ip("10.200.3.4")));
        assert!(t.contains(ip("::1")));
        assert!(t.contains(ip("fd12:3456::1")));
        assert!(!t.contains(ip("fe80::1")));
        assert!(t.contains(ip("192.168.200.1")), "host bits are ignored");
        assert!(t.contains(ip("::ffff:10.1.2.3")), "v4-mapped is v4");
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for bad in [
            "localhost",
            "10.0.0.0/33",
            "1.2.3",
            "::1/129",
            "10.0.0.1 10.0.0.2",
        ] {
            let err = bad.parse::<TrustedProxies>().unwrap_err();
            assert!(err.contains("not an IP"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_header_is_ignored_unless_the_peer_is_trusted() {
        let none = TrustedProxies::default();
        let headers = xff(&["203.0.113.9"]);
        assert_eq!(client_ip(ip("127.0.0.1"), &headers, &none), ip("127.0.0.1"));
        let other: TrustedProxies = "10.0.0.1".parse().unwrap();
        assert_eq!(
            client_ip(ip("198.51.100.1"), &headers, &other),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let t: TrustedProxies = "127.0.0.1, 10.0.0.0/8".parse().unwrap();
        let peer = ip("127.0.0.1");
        // The client wrote 6.6.6.6 itself; nginx appended the real address.
        let headers = xff(&["6.6.6.6, 203.0.113.9"]);
        assert_eq!(client_ip(peer, &headers, &t), ip("203.0.113.9"));
        // Through a second trusted proxy, and split over two header lines.
        let headers = xff(&["6.6.6.6, 203.0.113.9", "10.1.1.1"]);
        assert_eq!(client_ip(peer, &headers, &t), ip("203.0.113.9"));
        // Ports and brackets.
        let headers = xff(&["[2001:db8::7]:4711"]);
        assert_eq!(client_ip(peer, &headers, &t), ip("2001:db8::7"));
        let headers = xff(&["203.0.113.9:4711"]);
        assert_eq!(client_ip(peer, &headers, &t), ip("203.0.113.9"));
    }

    #[test]
    fn without_a_usable_header_the_nearest_trusted_hop_is_the_client() {
        let t: TrustedProxies = "127.0.0.1, 10.0.0.0/8".parse().unwrap();
        let peer = ip("127.0.0.1");
        assert_eq!(client_ip(peer, &HeaderMap::new(), &t), peer);
        let headers = xff(&["203.0.113.9, junk, 10.1.1.1"]);
        assert_eq!(client_ip(peer, &headers, &t), ip("10.1.1.1"));
        let headers = xff(&["10.2.2.2, 10.1.1.1"]);
        assert_eq!(client_ip(peer, &headers, &t), ip("10.2.2.2"));
        let long = vec!["10.0.0.1"; 100].join(",");
        assert_eq!(
            client_ip(peer, &xff(&[&format!("6.6.6.6,{long}")]), &t),
            ip("10.0.0.1")
        );
    }
}
