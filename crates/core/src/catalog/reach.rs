//! Where a build may reach: the hosts of git sources and of URL `ADD`
//! sources must be public. Loopback, link-local, private, shared and other
//! non-global addresses belong to this host or its networks, so a build
//! must not make this server (or the engine) fetch from them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};
use std::time::Duration;

use crate::error::{CoreError, CoreResult};

/// How long a host name may take to resolve before the source is refused.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

fn is_local_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments, 192.0.0.0/24.
        || ip.octets()[..3] == [192, 0, 0]
        // Benchmarking, 198.18.0.0/15.
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn is_local_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_local_v4(v4);
    }
    let first = ip.segments()[0];
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // Unique local, fc00::/7.
        || (first & 0xfe00) == 0xfc00
        // Link-local, fe80::/10.
        || (first & 0xffc0) == 0xfe80
        // Site-local (deprecated), fec0::/10.
        || (first & 0xffc0) == 0xfec0
        // Documentation, 2001:db8::/32.
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // IPv4-compatible and NAT64 forms carry an IPv4 address.
        || ip.segments()[..6] == [0; 6]
        || ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
}

/// Whether `ip` is this host's, its networks' or otherwise not a public address.
pub fn is_local_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_local_v4(v4),
        IpAddr::V6(v6) => is_local_v6(v6),
    }
}

/// The host and port of a `scheme://[user@]host[:port]/…` URL; IPv6
/// literals come without their brackets. `None` if it names no host.
pub fn url_host(url: &str) -> Option<(String, Option<u16>)> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(inner) = host_port.strip_prefix('[') {
        let (host, after) = inner.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        (host.to_string(), port)
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p.parse().ok()?)),
            None => (host_port.to_string(), None),
        }
    };
    (!host.is_empty()).then(|| (host.to_ascii_lowercase(), port))
}

/// The addresses `host` resolves to, every one of them public; else a 400
/// on `field` saying why.
pub async fn public_addresses(field: &str, host: &str, port: u16) -> CoreResult<Vec<IpAddr>> {
    let refuse = |why: String| CoreError::invalid_field(field, why);
    let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => {
            let name = host.to_string();
            // The system resolver blocks; it gets a thread of its own.
            let lookup = tokio::task::spawn_blocking(move || {
                (name.as_str(), port)
                    .to_socket_addrs()
                    .map(|found| found.map(|a| a.ip()).collect::<Vec<_>>())
            });
            match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
                Ok(Ok(Ok(found))) => found,
                Ok(Ok(Err(e))) => {
                    return Err(refuse(format!("host {host} does not resolve ({e})")));
                }
                Ok(Err(e)) => return Err(CoreError::internal_from(e)),
                Err(_) => return Err(refuse(format!("host {host} does not resolve in time"))),
            }
        }
    };
    if addresses.is_empty() {
        return Err(refuse(format!("host {host} has no address")));
    }
    if let Some(local) = addresses.iter().find(|ip| is_local_address(**ip)) {
        return Err(refuse(format!(
            "host {host} is a local or private address ({local}); builds reach public hosts only"
        )));
    }
    Ok(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_private_addresses() {
        for local in [
            "127.0.0.1",
            "127.8.9.1",
            "0.0.0.0",
            "10.1.2.3",
            "172.17.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.1.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
        ] {
            assert!(is_local_address(local.parse().unwrap()), "{local}");
        }
        for public in [
            "140.82.112.3",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(!is_local_address(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn hosts_of_urls() {
        let h = |u: &str| url_host(u);
        assert_eq!(
            h("https://example.com/a"),
            Some(("example.com".into(), None))
        );
        assert_eq!(
            h("http://user:pw@127.0.0.1:8080/x"),
            Some(("127.0.0.1".into(), Some(8080)))
        );
        assert_eq!(h("git://[::1]:9418/r"), Some(("::1".into(), Some(9418))));
        assert_eq!(
            h("https://EXAMPLE.com?x"),
            Some(("example.com".into(), None))
        );
        assert_eq!(h("https:///x"), None);
        assert_eq!(h("https://host:notaport/x"), None);
    }

    #[tokio::test]
    async fn names_resolving_to_loopback_are_refused() {
        assert!(public_addresses("f", "localhost", 443).await.is_err());
        assert!(public_addresses("f", "127.0.0.1", 443).await.is_err());
        assert!(public_addresses("f", "8.8.8.8", 443).await.is_ok());
    }
}
