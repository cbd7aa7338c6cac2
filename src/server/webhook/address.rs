//! Which addresses a webhook may not call: loopback, private, link-local,
//! shared (CGNAT), multicast and reserved ones, so that an endpoint cannot
//! make Herald reach into its own network. Checked when an endpoint is
//! registered and again at every send (`sender`'s resolver), since a name
//! may resolve elsewhere later. `HERALD_WEBHOOK_ALLOW_PRIVATE=1` lifts it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_private_v4(v4),
            None => is_private_v6(v6),
        },
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (CGNAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments, 192.0.0.0/24; benchmarking, 198.18.0.0/15.
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (b == 18 || b == 19))
        // Reserved, 240.0.0.0/4.
        || a >= 240
}

fn is_private_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // Unique local, fc00::/7; link-local, fe80::/10.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        // NAT64 (64:ff9b::/96) of a private IPv4 address.
        || (ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] && {
            let [.., c, d] = ip.segments();
            is_private_v4(Ipv4Addr::new((c >> 8) as u8, c as u8, (d >> 8) as u8, d as u8))
        })
}

/// The URL's host as an IP address, when it is one (`[::1]` included).
pub fn literal_ip(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// Refuses a URL whose host is, or resolves to, a private address (any of
/// its addresses: a client picks one). The reason is the client's message.
pub async fn check_public(url: &reqwest::Url) -> Result<(), String> {
    let host = url.host_str().ok_or("has no host")?;
    if let Some(ip) = literal_ip(host) {
        return if is_private(ip) {
            Err(format!("{ip} is a loopback or private address"))
        } else {
            Ok(())
        };
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<_> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| format!("{host} does not resolve"))?
        .collect();
    match addrs.iter().find(|a| is_private(a.ip())) {
        Some(a) => Err(format!(
            "{host} resolves to {}, a loopback or private address",
            a.ip()
        )),
        None if addrs.is_empty() => Err(format!("{host} does not resolve")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn private(s: &str) -> bool {
        is_private(s.parse().unwrap())
    }

    #[test]
    fn private_and_public_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(private(ip), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!private(ip), "{ip}");
        }
    }

    #[test]
    fn literal_hosts() {
        assert_eq!(literal_ip("[::1]"), Some("::1".parse().unwrap()));
        assert_eq!(literal_ip("127.0.0.1"), Some("127.0.0.1".parse().unwrap()));
        assert_eq!(literal_ip("example.com"), None);
    }
}
