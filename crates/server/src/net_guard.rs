//! Which links a URL import may fetch: http(s) only, and never an address inside the
//! server's own network (private ranges, loopback, link-local, cloud metadata), so an
//! import cannot be used to read internal services.
//!
//! The check resolves the host now; whoever downloads should check the addresses it
//! connects to again ([`public_address`]), since DNS may answer differently later.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Longest link accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Why a link was refused; the message is meant for the user who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlProblem {
    /// Not a URL at all.
    #[error("is not a valid URL: {0}")]
    Malformed(String),
    /// Longer than [`MAX_URL_LEN`].
    #[error("is longer than {MAX_URL_LEN} characters")]
    TooLong,
    /// Not http or https.
    #[error("must be an http:// or https:// link, not {0}://")]
    Scheme(String),
    /// No host to fetch from.
    #[error("has no host")]
    NoHost,
    /// The host name does not resolve.
    #[error("host {host} cannot be resolved: {reason}")]
    Unresolvable {
        /// The host as written.
        host: String,
        /// The resolver's answer.
        reason: String,
    },
    /// The host is, or resolves to, an address inside a private network.
    #[error("points at {address} ({kind}); links must lead to a public internet address")]
    NotPublic {
        /// The offending address.
        address: IpAddr,
        /// What kind of address it is.
        kind: &'static str,
    },
}

/// Why `ip` is not a public internet address, or `None` when it is.
pub fn non_public_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => v6_kind(v6),
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match () {
        _ if ip.is_unspecified() || a == 0 => "an unspecified address",
        _ if ip.is_loopback() => "a loopback address",
        _ if ip.is_private() => "a private network address",
        // Carrier-grade NAT, 100.64.0.0/10 (also where some clouds put metadata services).
        _ if a == 100 && (b & 0xc0) == 64 => "a carrier-grade NAT address",
        // 169.254.0.0/16, which includes the 169.254.169.254 metadata service.
        _ if ip.is_link_local() => "a link-local or cloud metadata address",
        _ if ip.is_multicast() => "a multicast address",
        _ if ip.is_broadcast() => "the broadcast address",
        // 192.0.0.0/24: IETF protocol assignments (NAT64 discovery, DS-Lite).
        _ if a == 192 && b == 0 && c == 0 => "a reserved address",
        // 198.18.0.0/15: benchmarking networks, routed inside labs.
        _ if a == 198 && (b & 0xfe) == 18 => "a benchmarking network address",
        _ if a >= 240 => "a reserved address",
        _ => return None,
    })
}

fn v6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    // An IPv4 address in IPv6 clothing reaches the IPv4 host: judge that.
    if let Some(v4) = embedded_v4(ip) {
        return v4_kind(v4);
    }
    let first = ip.segments()[0];
    Some(match () {
        _ if ip.is_unspecified() => "an unspecified address",
        _ if ip.is_loopback() => "a loopback address",
        // fc00::/7 unique local addresses (also fd00:ec2::254, a metadata service).
        _ if (first & 0xfe00) == 0xfc00 => "a private network (unique local) address",
        _ if (first & 0xffc0) == 0xfe80 => "a link-local address",
        // fec0::/10, the deprecated site-local range some networks still route.
        _ if (first & 0xffc0) == 0xfec0 => "a site-local address",
        _ if ip.is_multicast() => "a multicast address",
        _ => return None,
    })
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`)
/// or NAT64 (`64:ff9b::a.b.c.d`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(tail),
        // `::` and `::1` are IPv6's own unspecified and loopback addresses.
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(tail),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail),
        _ => None,
    }
}

/// Fails unless `ip` is a public internet address.
pub fn public_address(ip: IpAddr) -> Result<(), UrlProblem> {
    match non_public_kind(ip) {
        Some(kind) => Err(UrlProblem::NotPublic { address: ip, kind }),
        None => Ok(()),
    }
}

/// Parses `raw` and checks its form: http(s), a host, not too long. Resolves nothing.
pub fn parse_link(raw: &str) -> Result<Url, UrlProblem> {
    let raw = raw.trim();
    if raw.len() > MAX_URL_LEN {
        return Err(UrlProblem::TooLong);
    }
    let url = Url::parse(raw).map_err(|e| UrlProblem::Malformed(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlProblem::Scheme(url.scheme().to_string()));
    }
    if url.host().is_none() {
        return Err(UrlProblem::NoHost);
    }
    Ok(url)
}

/// Parses `raw` and, unless `allow_private`, checks that its host and every address it
/// resolves to are public. Returns the parsed link.
pub async fn check_link(raw: &str, allow_private: bool) -> Result<Url, UrlProblem> {
    let url = parse_link(raw)?;
    if allow_private {
        return Ok(url);
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<IpAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(Host::Domain(domain)) => {
            let resolved = tokio::net::lookup_host((domain, port)).await.map_err(|e| {
                UrlProblem::Unresolvable {
                    host: domain.to_string(),
                    reason: e.to_string(),
                }
            })?;
            let addresses: Vec<IpAddr> = resolved.map(|a| a.ip()).collect();
            if addresses.is_empty() {
                return Err(UrlProblem::Unresolvable {
                    host: domain.to_string(),
                    reason: "no addresses".into(),
                });
            }
            addresses
        }
        None => return Err(UrlProblem::NoHost),
    };
    // Every address: a name with one public and one private answer could be fetched from
    // either.
    addresses.into_iter().try_for_each(public_address)?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(ip: &str) -> Option<&'static str> {
        non_public_kind(ip.parse().unwrap())
    }

    #[test]
    fn internal_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(kind(ip).is_some(), "{ip} was let through");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "93.184.215.14",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700::6810:84e5",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(kind(ip), None, "{ip} was refused");
        }
    }

    #[tokio::test]
    async fn links_are_checked_by_scheme_and_address() {
        assert!(matches!(
            check_link("ftp://93.184.215.14/a.mp4", false).await,
            Err(UrlProblem::Scheme(s)) if s == "ftp"
        ));
        assert!(matches!(
            check_link("not a link", false).await,
            Err(UrlProblem::Malformed(_))
        ));
        assert!(matches!(
            check_link("http://[::1]:8080/v.mp4", false).await,
            Err(UrlProblem::NotPublic { .. })
        ));
        assert!(matches!(
            check_link("http://localhost/v.mp4", false).await,
            Err(UrlProblem::NotPublic { .. })
        ));
        // The decimal form of 127.0.0.1 is read as the address it is.
        assert!(matches!(
            check_link("http://2130706433/v.mp4", false).await,
            Err(UrlProblem::NotPublic { .. })
        ));
        assert!(check_link("https://93.184.215.14/watch?v=1", false)
            .await
            .is_ok());
        assert!(check_link("http://127.0.0.1/v.mp4", true).await.is_ok());
    }
}
