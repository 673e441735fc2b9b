//! Who the client is. Directly connected, it is the TCP peer. Behind a proxy listed in
//! `TRUSTED_PROXIES`, it is the right-most address that is not a trusted proxy in the one header those
//! proxies write (`CLIENT_IP_HEADER`: `X-Forwarded-For` by default, or `Forwarded`): each proxy appends
//! the address it received from, so everything left of the first untrusted hop may be forged by the
//! client and is ignored. The other header is never read: proxies pass it through as the client wrote
//! it (security review 2, H3).

use crate::config::{ClientIpHeader, TrustedProxies};
use crate::request::ClientIp;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Middleware: puts the resolved `ClientIp` into the request's extensions.
pub async fn resolve_client_ip(
    State(proxies): State<Arc<TrustedProxies>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = client_ip(peer.ip(), request.headers(), &proxies);
    request.extensions_mut().insert(ClientIp(client));
    next.run(request).await
}

pub fn client_ip(peer: IpAddr, headers: &HeaderMap, proxies: &TrustedProxies) -> IpAddr {
    let is_trusted = |ip: &IpAddr| proxies.nets.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = forwarded_hops(headers, proxies.header);
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

/// The hops of `header` over every instance of it, left to right; `None` for a hop that is not an
/// address. `Forwarded` is read as RFC 7239 (`for=` of each element).
fn forwarded_hops(headers: &HeaderMap, header: ClientIpHeader) -> Vec<Option<IpAddr>> {
    let hops = headers
        .get_all(header.name())
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim);
    match header {
        ClientIpHeader::XForwardedFor => hops.map(parse_node).collect(),
        ClientIpHeader::Forwarded => hops
            .map(|element| {
                element
                    .split(';')
                    .find_map(|pair| {
                        let (key, value) = pair.trim().split_once('=')?;
                        key.eq_ignore_ascii_case("for").then_some(value)
                    })
                    .and_then(parse_node)
            })
            .collect(),
    }
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

    fn behind(header: ClientIpHeader) -> TrustedProxies {
        TrustedProxies {
            nets: vec!["10.0.0.0/8".parse().expect("net")],
            header,
        }
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxies = behind(ClientIpHeader::XForwardedFor);
        let xff = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.0.0.2")]);
        // The peer is not a proxy of ours: its header is ignored.
        assert_eq!(
            client_ip(ip("198.51.100.1"), &xff, &proxies),
            ip("198.51.100.1")
        );
        // Through two of our proxies: the right-most untrusted hop, not the forged left one.
        assert_eq!(client_ip(ip("10.0.0.1"), &xff, &proxies), ip("203.0.113.9"));
        // Nothing trusted configured: always the peer.
        let nothing_trusted = TrustedProxies::default();
        assert_eq!(
            client_ip(ip("10.0.0.1"), &xff, &nothing_trusted),
            ip("10.0.0.1")
        );
        // No header at all behind a proxy: the proxy is all we know.
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &proxies),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn only_the_configured_header_is_read_and_forwarded_is_parsed_like_rfc_7239() {
        let both = headers(&[
            (
                "forwarded",
                "for=6.6.6.6, for=\"[2001:db8::7]:4711\";proto=https",
            ),
            ("x-forwarded-for", "192.0.2.1"),
        ]);
        // The proxy writes X-Forwarded-For: a client's own Forwarded is not believed.
        let xff = behind(ClientIpHeader::XForwardedFor);
        assert_eq!(client_ip(ip("10.0.0.1"), &both, &xff), ip("192.0.2.1"));
        // The proxy writes Forwarded: now X-Forwarded-For is the client's.
        let forwarded = behind(ClientIpHeader::Forwarded);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &both, &forwarded),
            ip("2001:db8::7")
        );
        let garbage = headers(&[("x-forwarded-for", "203.0.113.9, nonsense")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &garbage, &xff), ip("10.0.0.1"));
        let with_port = headers(&[("forwarded", "for=192.0.2.60:8080")]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &with_port, &forwarded),
            ip("192.0.2.60")
        );
    }
}
