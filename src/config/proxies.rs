//! Which proxies may say who the client is, and in which header (security review 2, H3).

use super::ConfigError;
use ipnet::IpNet;

/// The proxies in front of the app and the one header they write the client's address into.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    /// Peers whose header is believed (empty: the TCP peer is the client).
    pub nets: Vec<IpNet>,
    pub header: ClientIpHeader,
}

/// The header the trusted proxies append the client's address to. Only this one is read: a proxy passes
/// the other one through as the client wrote it (nginx, AWS ALB and most load balancers do), so believing
/// it would let every request name its own address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClientIpHeader {
    /// `X-Forwarded-For: client, proxy1` (nginx's `$proxy_add_x_forwarded_for`, Caddy, most balancers).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client` (for proxies configured to write it).
    Forwarded,
}

impl ClientIpHeader {
    pub fn name(self) -> &'static str {
        match self {
            ClientIpHeader::XForwardedFor => "x-forwarded-for",
            ClientIpHeader::Forwarded => "forwarded",
        }
    }
}

/// `TRUSTED_PROXIES` (comma-separated addresses or CIDR ranges, e.g. `10.0.0.0/8, 192.0.2.7`) and
/// `CLIENT_IP_HEADER` (`x-forwarded-for`, the default, or `forwarded`).
pub(super) fn trusted_proxies(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<TrustedProxies, ConfigError> {
    let nets = get("TRUSTED_PROXIES")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    ConfigError(format!(
                        "TRUSTED_PROXIES entry {entry:?} is not an address or CIDR range like 10.0.0.0/8"
                    ))
                })
        })
        .collect::<Result<_, _>>()?;
    let header = match get("CLIENT_IP_HEADER").map(|raw| raw.trim().to_ascii_lowercase()) {
        None => ClientIpHeader::default(),
        Some(name) if name == "x-forwarded-for" => ClientIpHeader::XForwardedFor,
        Some(name) if name == "forwarded" => ClientIpHeader::Forwarded,
        Some(other) => {
            return Err(ConfigError(format!(
                "CLIENT_IP_HEADER={other:?}: use x-forwarded-for or forwarded (the header your proxy writes)"
            )));
        }
    };
    Ok(TrustedProxies { nets, header })
}
