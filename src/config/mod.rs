//! Typed configuration from the environment (and `.env`, loaded by `main`).
//!
//! Secrets (keys, webhook secrets, and `DATABASE_URL` and `SMTP_URL`, which can carry a password) are
//! wrapped in `SecretString` so that `Debug` output and logs never show them.

mod mail;
mod proxies;
mod selling;
mod stripe;

pub use mail::MailConfig;
use mail::mail_config;
use proxies::trusted_proxies;
pub use proxies::{ClientIpHeader, TrustedProxies};
pub use selling::SellingConfig;
use selling::selling_config;
use stripe::stripe_config;
pub use stripe::{StripeConfig, StripeMode};

use secrecy::SecretString;
use std::net::SocketAddr;
use std::time::Duration;
use url::Url;

pub const STRIPE_API_BASE: &str = "https://api.stripe.com";
const DEFAULT_DATABASE_URL: &str = "sqlite://data/storefront.db";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Public base URL of the app (redirect URLs, cookie `Secure` flag, Origin check).
    pub app_url: Url,
    /// Secret: a PostgreSQL URL may carry the password.
    pub database_url: SecretString,
    pub bind_addr: SocketAddr,
    pub site_root: String,
    pub log_format: LogFormat,
    pub stripe: StripeConfig,
    /// Proxies whose client-address header is believed, and that header.
    pub trusted_proxies: TrustedProxies,
    pub password_hashing: PasswordHashing,
    pub mail: MailConfig,
    pub selling: SellingConfig,
}

/// How many Argon2 hashes may run at once (each takes 19 MiB and a core for tens of milliseconds),
/// and how long a request waits for a turn before it is answered 503.
#[derive(Debug, Clone, Copy)]
pub struct PasswordHashing {
    pub concurrency: usize,
    pub max_wait: Duration,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(message.into()))
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests can pass a map instead of the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let app_url_raw = get("APP_URL").unwrap_or_else(|| "http://127.0.0.1:3000".into());
        let app_url = Url::parse(&app_url_raw)
            .map_err(|e| ConfigError(format!("APP_URL={app_url_raw:?} is not a URL: {e}")))?;
        if !matches!(app_url.scheme(), "http" | "https") || app_url.host_str().is_none() {
            return err(format!(
                "APP_URL={app_url_raw:?} must be an http:// or https:// URL"
            ));
        }

        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return err(
                "DATABASE_URL must start with sqlite: or postgres:// (unset means a SQLite file under ./data/)",
            );
        }

        let bind_raw = get("BIND_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into());
        let bind_addr = bind_raw.parse().map_err(|_| {
            ConfigError(format!(
                "BIND_ADDR={bind_raw:?} is not an address like 127.0.0.1:3000"
            ))
        })?;

        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => return err(format!("LOG_FORMAT={other:?}: use pretty or json")),
        };

        let site_root = get("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into());
        refuse_project_root(&site_root)?;
        let stripe = stripe_config(&get, &app_url)?;
        let trusted_proxies = trusted_proxies(&get)?;
        let password_hashing = password_hashing(&get)?;
        let mail = mail_config(&get)?;
        let selling = selling_config(&get)?;

        Ok(Config {
            app_url,
            database_url: SecretString::from(database_url),
            bind_addr,
            site_root,
            log_format,
            stripe,
            trusted_proxies,
            password_hashing,
            mail,
            selling,
        })
    }

    pub fn cookies_secure(&self) -> bool {
        self.app_url.scheme() == "https"
    }

    /// An absolute URL of this app for `path` (which starts with `/`), for links Stripe sends users to.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app_url.as_str().trim_end_matches('/'))
    }

    /// Where Stripe's hosted pages (Checkout, Billing Portal) are, for the CSP's `form-action`: a form
    /// post to us can answer 303 there. With stripe-sim (any other API base), its own origin.
    pub fn stripe_page_origins(&self) -> String {
        if self.stripe.api_base.as_str().trim_end_matches('/') == STRIPE_API_BASE {
            "https://checkout.stripe.com https://billing.stripe.com".to_owned()
        } else {
            self.stripe.api_base.origin().ascii_serialization()
        }
    }

    /// The CSP sources Stripe.js needs on `/shop/pay`: Stripe's documented ones for its own script,
    /// else the script's origin and the API's (stripe-sim serves the script, the card field, the
    /// 3-D Secure page and the API).
    pub fn stripe_js_sources(&self) -> crate::csp::StripeJsSources {
        if self.stripe.js_url.as_str() == stripe::STRIPE_JS_URL {
            return crate::csp::StripeJsSources {
                script: "https://js.stripe.com https://*.js.stripe.com".into(),
                frame: "https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com"
                    .into(),
                connect: "https://api.stripe.com".into(),
            };
        }
        let script = self.stripe.js_url.origin().ascii_serialization();
        let api = self.stripe.api_base.origin().ascii_serialization();
        // The card frame comes from the script's origin, the 3-D Secure page from the API's.
        let frame = if script == api {
            script.clone()
        } else {
            format!("{script} {api}")
        };
        crate::csp::StripeJsSources {
            script,
            frame,
            connect: api,
        }
    }

    /// `scheme://host[:port]` of `APP_URL`, the value browsers send in `Origin`.
    pub fn app_origin(&self) -> String {
        self.app_url.origin().ascii_serialization()
    }
}

/// Every file under the site root is served to anyone, so it must not be a directory holding the
/// project's sources, `.env` or database (for example `LEPTOS_SITE_ROOT=.`).
fn refuse_project_root(site_root: &str) -> Result<(), ConfigError> {
    let root = std::path::Path::new(site_root);
    let private = ["Cargo.toml", ".env", ".git", "data"]
        .into_iter()
        .find(|name| root.join(name).exists());
    match private {
        Some(name) => err(format!(
            "LEPTOS_SITE_ROOT={site_root:?} holds {name}, and everything under it is served publicly: \
             point it at the built site (target/site)"
        )),
        None => Ok(()),
    }
}

fn password_hashing(get: &impl Fn(&str) -> Option<String>) -> Result<PasswordHashing, ConfigError> {
    let number = |name: &str, default: u64| match get(name) {
        None => Ok(default),
        Some(raw) => raw
            .parse::<u64>()
            .map_err(|_| ConfigError(format!("{name}={raw:?} is not a whole number"))),
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    let concurrency = number("PASSWORD_HASHING_CONCURRENCY", cores)?;
    if concurrency == 0 {
        return err("PASSWORD_HASHING_CONCURRENCY must be at least 1");
    }
    Ok(PasswordHashing {
        concurrency: concurrency as usize,
        max_wait: Duration::from_millis(number("PASSWORD_HASHING_WAIT_MS", 1000)?),
    })
}

#[cfg(test)]
mod tests;
