//! The mail settings: where the outbox worker sends (`SMTP_URL`), as whom (`MAIL_FROM`), and how
//! fast it retries. A missing `SMTP_URL` is refused unless mail is switched off on purpose.

use super::{ConfigError, err};
use lettre::message::Mailbox;
use secrecy::SecretString;
use std::time::Duration;

const DEFAULT_MAIL_FROM: &str = "storefront <no-reply@localhost>";
const DEFAULT_RETRY_BASE_MS: u64 = 5_000;

#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://host:port` or `smtps://user:password@host:465`; secret, as it may carry a password.
    /// None when `MAIL_DISABLED=1`: mails are still written to the outbox but nobody sends them.
    pub smtp_url: Option<SecretString>,
    pub from: Mailbox,
    /// The first retry's delay after a failed send; each further one doubles it (capped).
    pub retry_base: Duration,
}

pub(super) fn mail_config(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<MailConfig, ConfigError> {
    let disabled = match get("MAIL_DISABLED").as_deref() {
        None | Some("0" | "false") => false,
        Some("1" | "true") => true,
        Some(other) => return err(format!("MAIL_DISABLED={other:?}: use 1 or 0")),
    };
    let smtp_url = match (get("SMTP_URL"), disabled) {
        (_, true) => None,
        (Some(url), false) => Some(checked_smtp_url(url, plaintext_allowed(get)?)?),
        (None, false) => {
            return err(
                "SMTP_URL is not set: set it to your mail server (smtp://127.0.0.1:1025 for a local \
                 maildev; ./scripts/run starts one), or set MAIL_DISABLED=1 to run without sending mail",
            );
        }
    };
    let from_raw = get("MAIL_FROM").unwrap_or_else(|| DEFAULT_MAIL_FROM.into());
    let from = from_raw.parse::<Mailbox>().map_err(|e| {
        ConfigError(format!(
            "MAIL_FROM={from_raw:?} is not a mailbox like `Shop <shop@example.com>`: {e}"
        ))
    })?;
    let retry_base_ms = match get("MAIL_RETRY_BASE_MS") {
        None => DEFAULT_RETRY_BASE_MS,
        Some(raw) => match raw.parse::<u64>() {
            Ok(ms) if (1..=600_000).contains(&ms) => ms,
            _ => {
                return err(format!(
                    "MAIL_RETRY_BASE_MS={raw:?} must be a number of milliseconds from 1 to 600000"
                ));
            }
        },
    };
    Ok(MailConfig {
        smtp_url,
        from,
        retry_base: Duration::from_millis(retry_base_ms),
    })
}

/// `SMTP_ALLOW_PLAINTEXT=1`: plain SMTP to a relay that is not on this machine (a sidecar on a private
/// network) is accepted anyway.
fn plaintext_allowed(get: &impl Fn(&str) -> Option<String>) -> Result<bool, ConfigError> {
    match get("SMTP_ALLOW_PLAINTEXT").as_deref() {
        None | Some("0" | "false") => Ok(false),
        Some("1" | "true") => Ok(true),
        Some(other) => err(format!("SMTP_ALLOW_PLAINTEXT={other:?}: use 1 or 0")),
    }
}

/// Only the shape is checked here; the message never repeats the URL, which may hold a password.
/// Plain `smtp://` without `tls=required` is lettre's plaintext transport: receipts (and perhaps the
/// credentials) would cross the network in clear, so it is refused for a host other than this machine
/// (security review 2, L11) unless `SMTP_ALLOW_PLAINTEXT=1`.
fn checked_smtp_url(raw: String, plaintext_allowed: bool) -> Result<SecretString, ConfigError> {
    let url = url::Url::parse(&raw);
    let valid = url
        .as_ref()
        .is_ok_and(|u| matches!(u.scheme(), "smtp" | "smtps") && u.host_str().is_some())
        // The worker builds its transport from the same URL: whatever lettre refuses is refused now.
        && lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(&raw).is_ok();
    if !valid {
        return err(
            "SMTP_URL must look like smtp://host:port (plain or STARTTLS with ?tls=required) or \
             smtps://user:password@host:465",
        );
    }
    let encrypted = url.as_ref().is_ok_and(|u| {
        u.scheme() == "smtps" || u.query_pairs().any(|(k, v)| k == "tls" && v == "required")
    });
    let loopback = url.as_ref().is_ok_and(|u| match u.host() {
        // `smtp:` is no special scheme to the URL parser, so an address comes back as a domain.
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    });
    if !encrypted && !loopback && !plaintext_allowed {
        return err(
            "SMTP_URL sends mail unencrypted to another host: use smtps://…:465 or \
             smtp://…:587?tls=required (plain smtp:// is for a server on this machine, such as maildev), \
             or set SMTP_ALLOW_PLAINTEXT=1 for a relay on a private network",
        );
    }
    Ok(SecretString::from(raw))
}
