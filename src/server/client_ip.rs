//! Who the client is. Directly connected, it is the TCP peer. Behind a proxy listed in
//! `TRUSTED_PROXIES`, it is the right-most address in `Forwarded` (or `X-Forwarded-For`) that is not a
//! trusted proxy: each proxy appends the address it received from, so everything left of the first
//! untrusted hop may be forged by the client and is ignored.

use crate::request::ClientIp;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Middleware: puts the resolved `ClientIp` into the request's extensions.
pub async fn resolve_client_ip(
    State(trusted): State<Arc<Vec<IpNet>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = client_ip(peer.ip(), request.headers(), &trusted);
    request.extensions_mut().insert(ClientIp(client));
    next.run(request).await
}

pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = forwarded_hops(headers);
    let mut client = peer;
    for hop in hops.iter().rev() {
        // An unreadable hop ends what can be believed; the last trusted address stands for the client.
        let Some(ip) = hop else { break };
        client = *ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// The hops of `Forwarded: for=…` (RFC 7239) if present, else of `X-Forwarded-For`, left to right,
/// over every instance of the header; `None` for a hop that is not an address.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|hop| hop.trim().to_owned())
            .collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|element| {
                element
                    .split(';')
                    .find_map(|pair| {
                        let (key, value) = pair.trim().split_once('=')?;
                        key.eq_ignore_ascii_case("for").then_some(value)
                    })
                    .and_then(parse_node)
            })
            .collect();
    }
    values("x-forwarded-for")
        .iter()
        .map(|hop| parse_node(hop))
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:8080`, `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let node = raw.trim().trim_matches('"');
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    node.parse()
        .ok()
        .or_else(|| node.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn ip(raw: &str) -> IpAddr {
        raw.parse().expect("ip")
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let xff = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.0.0.2")]);
        // The peer is not a proxy of ours: its header is ignored.
        assert_eq!(
            client_ip(ip("198.51.100.1"), &xff, &proxies),
            ip("198.51.100.1")
        );
        // Through two of our proxies: the right-most untrusted hop, not the forged left one.
        assert_eq!(client_ip(ip("10.0.0.1"), &xff, &proxies), ip("203.0.113.9"));
        // Nothing trusted configured: always the peer.
        assert_eq!(client_ip(ip("10.0.0.1"), &xff, &[]), ip("10.0.0.1"));
        // No header at all behind a proxy: the proxy is all we know.
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &proxies),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn forwarded_header_wins_and_is_parsed_like_rfc_7239() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let both = headers(&[
            (
                "forwarded",
                "for=6.6.6.6, for=\"[2001:db8::7]:4711\";proto=https",
            ),
            ("x-forwarded-for", "192.0.2.1"),
        ]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &both, &proxies),
            ip("2001:db8::7")
        );
        let garbage = headers(&[("x-forwarded-for", "203.0.113.9, nonsense")]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &garbage, &proxies),
            ip("10.0.0.1")
        );
        let with_port = headers(&[("forwarded", "for=192.0.2.60:8080")]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &with_port, &proxies),
            ip("192.0.2.60")
        );
    }
}
