//! Which addresses a webhook may be delivered to: only the public internet, so that a webhook
//! can't reach the clinic's own network (its database, a cloud's metadata service, a printer) or
//! be used to map it. Checked when a URL is registered and again on every address a name
//! resolves to when a delivery is sent.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where webhooks may go: the public internet only, over https, unless private addresses are
/// allowed (`AFTERCARE_WEBHOOK_ALLOW_PRIVATE`, for local testing and the demo), which allows plain
/// http too.
#[derive(Debug, Clone, Copy, Default)]
pub struct Targets {
    pub allow_private: bool,
}

impl Targets {
    pub fn allows(self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip)
    }

    /// Whether a URL of this scheme may be sent to: `https` only, since a delivery carries
    /// patients' ids, alert rules and complication grades; plain `http` only where private
    /// targets are allowed (local testing and the demo, whose receivers are on this machine).
    pub fn allows_scheme(self, scheme: &str) -> bool {
        scheme == "https" || (self.allow_private && scheme == "http")
    }

    /// Whether a URL's host may be delivered to before it is resolved: a name is checked again
    /// on each address it resolves to.
    pub fn allows_host(self, host: &url::Host<&str>) -> bool {
        match host {
            url::Host::Ipv4(ip) => self.allows(IpAddr::V4(*ip)),
            url::Host::Ipv6(ip) => self.allows(IpAddr::V6(*ip)),
            url::Host::Domain(name) => self.allow_private || !is_local_name(name),
        }
    }
}

/// Whether `ip` is an address of the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    const NOT_PUBLIC: [([u8; 4], u32); 15] = [
        ([0, 0, 0, 0], 8),       // "this network", 0.0.0.0 among it
        ([10, 0, 0, 0], 8),      // private (RFC 1918)
        ([100, 64, 0, 0], 10),   // carrier-grade NAT
        ([127, 0, 0, 0], 8),     // loopback
        ([169, 254, 0, 0], 16),  // link-local, cloud metadata services
        ([172, 16, 0, 0], 12),   // private
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // documentation
        ([192, 88, 99, 0], 24),  // 6to4 relays
        ([192, 168, 0, 0], 16),  // private
        ([198, 18, 0, 0], 15),   // benchmarking
        ([198, 51, 100, 0], 24), // documentation
        ([203, 0, 113, 0], 24),  // documentation
        ([224, 0, 0, 0], 4),     // multicast
        ([240, 0, 0, 0], 4),     // reserved, and the broadcast address
    ];
    !NOT_PUBLIC.iter().any(|(net, bits)| in_v4(ip, *net, *bits))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded = || Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7]));
    // Addresses that carry an IPv4 address are as public as it is: mapped (::ffff:a.b.c.d),
    // translated (::ffff:0:a.b.c.d, RFC 2765's SIIT), the well-known NAT64 prefix
    // (64:ff9b::a.b.c.d) and 6to4 (2002:ab:cd::).
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    if s[..6] == [0, 0, 0, 0, 0xffff, 0] || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded());
    }
    // The local-use NAT64 prefix (RFC 8215) translates into whatever network its operator chose,
    // the clinic's own among them: never public, whatever it embeds.
    if s[..3] == [0x64, 0xff9b, 1] {
        return false;
    }
    if s[0] == 0x2002 {
        return is_public_v4(Ipv4Addr::from((u32::from(s[1]) << 16) | u32::from(s[2])));
    }
    let not_public = s[..6] == [0; 6] // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
        || (s[0] & 0xfe00) == 0xfc00 // unique local (fc00::/7)
        || (s[0] & 0xffc0) == 0xfe80 // link-local (fe80::/10)
        || (s[0] & 0xffc0) == 0xfec0 // site-local, deprecated (fec0::/10)
        || (s[0] & 0xff00) == 0xff00 // multicast
        || s[..4] == [0x100, 0, 0, 0] // discard (100::/64)
        || s[..2] == [0x2001, 0xdb8] // documentation
        || s[..2] == [0x2001, 0]; // Teredo, which tunnels to an IPv4 address
    !not_public
}

/// Whether a URL's host names a place no webhook may go whatever it resolves to: `localhost`
/// and its subdomains (RFC 6761 has them resolve to loopback, and resolvers may answer so
/// without asking DNS).
pub fn is_local_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
    }

    #[test]
    fn private_networks_are_refused_and_their_public_neighbours_are_not() {
        for (refused, allowed) in [
            ("10.0.0.1", "11.0.0.1"),
            ("10.255.255.255", "9.255.255.255"),
            ("172.16.0.1", "172.15.255.255"),
            ("172.31.255.255", "172.32.0.0"),
            ("192.168.0.1", "192.169.0.1"),
            ("100.64.0.1", "100.63.255.255"),
            ("100.127.255.255", "100.128.0.0"),
        ] {
            assert!(!public(refused), "{refused}");
            assert!(public(allowed), "{allowed}");
        }
    }

    #[test]
    fn loopback_link_local_and_unspecified_are_refused() {
        for (refused, allowed) in [
            ("127.0.0.1", "128.0.0.1"),
            ("127.255.255.254", "126.255.255.255"),
            ("169.254.169.254", "169.253.169.254"),
            ("0.0.0.0", "1.0.0.0"),
            ("224.0.0.1", "223.255.255.255"),
            ("255.255.255.255", "223.255.255.254"),
            ("198.18.0.1", "198.20.0.1"),
            ("203.0.113.7", "203.0.114.7"),
        ] {
            assert!(!public(refused), "{refused}");
            assert!(public(allowed), "{allowed}");
        }
    }

    #[test]
    fn ipv6_refuses_the_same_places() {
        for (refused, allowed) in [
            ("::1", "2606:4700::1111"),
            ("::", "2a00:1450::1"),
            ("fc00::1", "fbff::1"),
            ("fdff:ffff::1", "fe00::1"),
            ("fe80::1", "fe7f::1"),
            ("ff02::1", "2001:4860:4860::8888"),
            ("2001:db8::1", "2001:db9::1"),
            ("::ffff:127.0.0.1", "::ffff:8.8.8.8"),
            ("::ffff:10.0.0.1", "::ffff:11.0.0.1"),
            ("::ffff:169.254.169.254", "::ffff:1.1.1.1"),
            ("64:ff9b::a00:1", "64:ff9b::808:808"),
            ("2002:c0a8:1::1", "2002:808:808::1"),
            // IPv4-translated (RFC 2765): as public as the IPv4 address it carries.
            ("::ffff:0:127.0.0.1", "::ffff:0:8.8.8.8"),
            ("::ffff:0:10.0.0.1", "::ffff:0:11.0.0.1"),
            ("::ffff:0:169.254.169.254", "::ffff:0:1.1.1.1"),
            ("::ffff:0:192.168.1.1", "::ffff:0:192.169.1.1"),
            // The well-known NAT64 prefix, likewise.
            ("64:ff9b::127.0.0.1", "64:ff9b::1.1.1.1"),
            ("64:ff9b::192.168.0.1", "64:ff9b::192.169.0.1"),
            ("64:ff9b::169.254.169.254", "64:ff9b::93.184.215.14"),
            // Local-use NAT64 (64:ff9b:1::/48): never, even when it embeds a public address;
            // the well-known prefix beside it is as public as what it embeds.
            ("64:ff9b:1::808:808", "64:ff9b::808:808"),
            ("64:ff9b:1:ffff::b00:1", "64:ff9b::b00:1"),
            ("64:ff9b:1::", "64:ff9b::101:101"),
            // IPv4-compatible (deprecated ::a.b.c.d): refused whatever it carries; its mapped
            // and translated forms are as public as the address.
            ("::10.0.0.1", "::ffff:0:11.0.0.1"),
            ("::8.8.8.8", "::ffff:8.8.8.8"),
        ] {
            assert!(!public(refused), "{refused}");
            assert!(public(allowed), "{allowed}");
        }
    }

    #[test]
    fn localhost_is_a_local_name_and_its_look_alikes_are_not() {
        for name in ["localhost", "LOCALHOST", "localhost.", "db.localhost"] {
            assert!(is_local_name(name), "{name}");
        }
        for name in ["localhost.example", "notlocalhost", "mylocalhost.com"] {
            assert!(!is_local_name(name), "{name}");
        }
    }
}
