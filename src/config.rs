//! Typed configuration from the environment (and `.env`, loaded by `main`).
//!
//! Secrets (keys, webhook secrets, and `DATABASE_URL`, which can carry a password) are wrapped in
//! `SecretString` so that `Debug` output and logs never show them.

use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StripeMode {
    Test,
    Live,
}

#[derive(Debug, Clone)]
pub struct StripeConfig {
    pub secret_key: SecretString,
    /// Several secrets are accepted at once so a webhook secret can be rotated without downtime.
    pub webhook_secrets: Vec<SecretString>,
    pub api_base: Url,
    pub mode: StripeMode,
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
    /// Proxies whose `X-Forwarded-For`/`Forwarded` are believed (empty: the TCP peer is the client).
    pub trusted_proxies: Vec<IpNet>,
    pub password_hashing: PasswordHashing,
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
        let trusted_proxies = trusted_proxies(get("TRUSTED_PROXIES").as_deref())?;
        let password_hashing = password_hashing(&get)?;

        Ok(Config {
            app_url,
            database_url: SecretString::from(database_url),
            bind_addr,
            site_root,
            log_format,
            stripe,
            trusted_proxies,
            password_hashing,
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

/// `TRUSTED_PROXIES`: comma-separated addresses or CIDR ranges, e.g. `10.0.0.0/8, 192.0.2.7`.
fn trusted_proxies(raw: Option<&str>) -> Result<Vec<IpNet>, ConfigError> {
    raw.unwrap_or_default()
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
        .collect()
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

fn key_mode(name: &str, value: &str, prefixes: &[&str]) -> Result<StripeMode, ConfigError> {
    for prefix in prefixes {
        if value.starts_with(&format!("{prefix}_test_")) {
            return Ok(StripeMode::Test);
        }
        if value.starts_with(&format!("{prefix}_live_")) {
            return Ok(StripeMode::Live);
        }
    }
    let expected: Vec<String> = prefixes
        .iter()
        .map(|p| format!("{p}_test_… or {p}_live_…"))
        .collect();
    err(format!(
        "{name} must be a Stripe key starting with {}",
        expected.join(", or ")
    ))
}

fn stripe_config(
    get: &impl Fn(&str) -> Option<String>,
    app_url: &Url,
) -> Result<StripeConfig, ConfigError> {
    let Some(secret_key) = get("STRIPE_SECRET_KEY") else {
        return err(
            "STRIPE_SECRET_KEY is not set: use ./scripts/run (it starts stripe-sim and sets it), \
             or copy .env.example to .env and put your Stripe test key there",
        );
    };
    let mode = key_mode("STRIPE_SECRET_KEY", &secret_key, &["sk", "rk"])?;

    // Only consistency matters here: the publishable key is optional, but when given it must be of the
    // same mode as the secret key, or checkout pages and API calls would live in different worlds.
    if let Some(publishable) = get("STRIPE_PUBLISHABLE_KEY") {
        let publishable_mode = key_mode("STRIPE_PUBLISHABLE_KEY", &publishable, &["pk"])?;
        if publishable_mode != mode {
            return err(format!(
                "STRIPE_SECRET_KEY is a {} key but STRIPE_PUBLISHABLE_KEY is a {} key: use both keys from \
                 the same mode of the Stripe dashboard",
                mode_name(mode),
                mode_name(publishable_mode)
            ));
        }
    }

    let webhook_secrets: Vec<SecretString> = get("STRIPE_WEBHOOK_SECRET")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| SecretString::from(s.to_owned()))
        .collect();
    if let Some(bad) = webhook_secrets
        .iter()
        .position(|s| !s.expose_secret().starts_with("whsec_"))
    {
        return err(format!(
            "STRIPE_WEBHOOK_SECRET entry #{} does not start with whsec_ (give one or more comma-separated signing secrets)",
            bad + 1
        ));
    }

    let api_base_raw = get("STRIPE_API_BASE").unwrap_or_else(|| STRIPE_API_BASE.into());
    let api_base = Url::parse(&api_base_raw).map_err(|e| {
        ConfigError(format!(
            "STRIPE_API_BASE={api_base_raw:?} is not a URL: {e}"
        ))
    })?;

    if mode == StripeMode::Live {
        refuse_unsafe_live_setup(app_url, &api_base, &api_base_raw, &webhook_secrets)?;
    }

    Ok(StripeConfig {
        secret_key: SecretString::from(secret_key),
        webhook_secrets,
        api_base,
        mode,
    })
}

/// A live key only with an https APP_URL, Stripe's own API, and a webhook secret: each refusal says
/// what to change.
fn refuse_unsafe_live_setup(
    app_url: &Url,
    api_base: &Url,
    api_base_raw: &str,
    webhook_secrets: &[SecretString],
) -> Result<(), ConfigError> {
    if app_url.scheme() != "https" {
        return err(format!(
            "STRIPE_SECRET_KEY is a live key but APP_URL is {app_url}: set APP_URL to the public https:// \
             address of this app, or use an sk_test_ key"
        ));
    }
    if api_base.as_str().trim_end_matches('/') != STRIPE_API_BASE {
        return err(format!(
            "STRIPE_SECRET_KEY is a live key but STRIPE_API_BASE is {api_base_raw}: unset STRIPE_API_BASE \
             (live keys only talk to {STRIPE_API_BASE}), or use an sk_test_ key"
        ));
    }
    if webhook_secrets.is_empty() {
        return err(
            "STRIPE_SECRET_KEY is a live key but STRIPE_WEBHOOK_SECRET is empty: set the signing secret of \
             your webhook endpoint (Stripe dashboard → Developers → Webhooks)",
        );
    }
    Ok(())
}

fn mode_name(mode: StripeMode) -> &'static str {
    match mode {
        StripeMode::Test => "test",
        StripeMode::Live => "live",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_to_sqlite_and_local_url() {
        let c = config(&[("STRIPE_SECRET_KEY", "sk_test_abc")]).expect("valid");
        assert_eq!(c.database_url.expose_secret(), DEFAULT_DATABASE_URL);
        assert_eq!(c.app_origin(), "http://127.0.0.1:3000");
        assert_eq!(c.stripe.mode, StripeMode::Test);
        assert!(!c.cookies_secure());
        assert_eq!(c.log_format, LogFormat::Pretty);
    }

    #[test]
    fn webhook_secrets_are_comma_separated() {
        let c = config(&[
            ("STRIPE_SECRET_KEY", "sk_test_abc"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_a, whsec_b"),
        ])
        .expect("valid");
        let secrets: Vec<&str> = c
            .stripe
            .webhook_secrets
            .iter()
            .map(|s| s.expose_secret())
            .collect();
        assert_eq!(secrets, ["whsec_a", "whsec_b"]);
        let bad = config(&[
            ("STRIPE_SECRET_KEY", "sk_test_abc"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_a,oops"),
        ]);
        assert!(bad.unwrap_err().0.contains("#2"));
    }

    #[test]
    fn live_key_needs_https_app_url() {
        let e = config(&[
            ("STRIPE_SECRET_KEY", "sk_live_abc"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_x"),
        ])
        .unwrap_err();
        assert!(e.0.contains("set APP_URL to the public https://"), "{e}");
    }

    #[test]
    fn live_key_refuses_another_api_base() {
        let e = config(&[
            ("STRIPE_SECRET_KEY", "sk_live_abc"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_x"),
            ("APP_URL", "https://shop.example.com"),
            ("STRIPE_API_BASE", "http://127.0.0.1:12111"),
        ])
        .unwrap_err();
        assert!(e.0.contains("unset STRIPE_API_BASE"), "{e}");
    }

    #[test]
    fn live_key_accepted_when_everything_is_live() {
        let c = config(&[
            ("STRIPE_SECRET_KEY", "sk_live_abc"),
            ("STRIPE_PUBLISHABLE_KEY", "pk_live_abc"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_x"),
            ("APP_URL", "https://shop.example.com"),
        ])
        .expect("valid live config");
        assert_eq!(c.stripe.mode, StripeMode::Live);
        assert!(c.cookies_secure());
    }

    #[test]
    fn mixed_test_and_live_keys_are_refused() {
        let e = config(&[
            ("STRIPE_SECRET_KEY", "sk_test_abc"),
            ("STRIPE_PUBLISHABLE_KEY", "pk_live_abc"),
        ])
        .unwrap_err();
        assert!(e.0.contains("same mode"), "{e}");
    }

    #[test]
    fn missing_or_malformed_key_is_explained() {
        assert!(
            config(&[])
                .unwrap_err()
                .0
                .contains("STRIPE_SECRET_KEY is not set")
        );
        assert!(
            config(&[("STRIPE_SECRET_KEY", "pk_test_abc")])
                .unwrap_err()
                .0
                .contains("sk_test_")
        );
    }

    /// Security review L16: the fallback serves every file under the site root.
    #[test]
    fn l16_site_root_cannot_be_the_project_root() {
        let project = std::env::temp_dir().join(format!("storefront-root-{}", std::process::id()));
        std::fs::create_dir_all(&project).expect("dir");
        std::fs::write(project.join("Cargo.toml"), "[package]").expect("file");
        let root = project.to_string_lossy().into_owned();
        let refused = config(&[
            ("STRIPE_SECRET_KEY", "sk_test_abc"),
            ("LEPTOS_SITE_ROOT", &root),
        ]);
        let _ = std::fs::remove_dir_all(&project);
        assert!(refused.unwrap_err().0.contains("LEPTOS_SITE_ROOT"));
        let site = config(&[
            ("STRIPE_SECRET_KEY", "sk_test_abc"),
            ("LEPTOS_SITE_ROOT", "target/site"),
        ]);
        assert!(site.is_ok());
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        let c = config(&[
            ("STRIPE_SECRET_KEY", "sk_test_abc"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7,2001:db8::/32"),
        ])
        .expect("valid");
        let shown: Vec<String> = c.trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(shown, ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"]);
        let bad = config(&[
            ("STRIPE_SECRET_KEY", "sk_test_abc"),
            ("TRUSTED_PROXIES", "proxy.local"),
        ]);
        assert!(bad.unwrap_err().0.contains("TRUSTED_PROXIES"));
        let none = config(&[("STRIPE_SECRET_KEY", "sk_test_abc")]).expect("valid");
        assert!(none.trusted_proxies.is_empty());
        assert!(none.password_hashing.concurrency >= 1);
    }

    #[test]
    fn secrets_do_not_appear_in_debug_output() {
        let c = config(&[
            ("STRIPE_SECRET_KEY", "sk_test_supersecret"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_hidden"),
            (
                "DATABASE_URL",
                "postgres://shop:dbpassword@db.internal/shop",
            ),
        ])
        .expect("valid");
        let debug = format!("{c:?}");
        for secret in ["supersecret", "whsec_hidden", "dbpassword"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }
}
