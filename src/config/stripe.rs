//! The Stripe settings and the test/live key guard: a live key is refused unless everything around it
//! is live too, and each refusal says what to change.

use super::{ConfigError, STRIPE_API_BASE, err};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

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
    /// The longest one customer sync may wait for Stripe (`STRIPE_SYNC_DEADLINE_SECS`, default 15):
    /// past it the webhook answers 503 and Stripe retries, instead of holding the request.
    pub sync_deadline: std::time::Duration,
    /// `STRIPE_PUBLISHABLE_KEY`: only paying on our own page (`/shop/pay`) needs it; without it that
    /// page offers hosted Checkout alone. Public by design (it goes to the browser).
    pub publishable_key: Option<String>,
    /// `STRIPE_JS_URL`: where the browser loads Stripe.js from. Stripe's own by default, or
    /// stripe-sim's `{api base}/v3/` when the API is not Stripe's (Stripe.js talks to Stripe only).
    pub js_url: Url,
}

/// Stripe.js, from Stripe. A live key accepts no other (it receives card numbers).
pub const STRIPE_JS_URL: &str = "https://js.stripe.com/v3/";

/// Under the 20 s Stripe allows a webhook endpoint before it counts the delivery as failed.
const DEFAULT_SYNC_DEADLINE_SECS: u64 = 15;

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

pub(super) fn stripe_config(
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
    let publishable_key = get("STRIPE_PUBLISHABLE_KEY");
    if let Some(publishable) = &publishable_key {
        let publishable_mode = key_mode("STRIPE_PUBLISHABLE_KEY", publishable, &["pk"])?;
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

    let js_url = stripe_js_url(get, &api_base)?;
    if mode == StripeMode::Live {
        refuse_unsafe_live_setup(app_url, &api_base, &api_base_raw, &webhook_secrets)?;
        if js_url.as_str() != STRIPE_JS_URL {
            return err(format!(
                "STRIPE_SECRET_KEY is a live key but STRIPE_JS_URL is {js_url}: unset STRIPE_JS_URL (card \
                 numbers only go to {STRIPE_JS_URL}), or use an sk_test_ key"
            ));
        }
    }

    let sync_deadline = match get("STRIPE_SYNC_DEADLINE_SECS") {
        None => DEFAULT_SYNC_DEADLINE_SECS,
        Some(raw) => match raw.trim().parse::<u64>() {
            Ok(secs) if (1..=300).contains(&secs) => secs,
            _ => {
                return err(format!(
                    "STRIPE_SYNC_DEADLINE_SECS={raw:?} must be a number of seconds from 1 to 300"
                ));
            }
        },
    };

    Ok(StripeConfig {
        secret_key: SecretString::from(secret_key),
        webhook_secrets,
        api_base,
        mode,
        sync_deadline: std::time::Duration::from_secs(sync_deadline),
        publishable_key,
        js_url,
    })
}

/// `STRIPE_JS_URL`, or the default that matches the API: Stripe's script for Stripe's API, the
/// simulator's `/v3/` for any other base (Stripe's script would send cards to Stripe).
fn stripe_js_url(
    get: &impl Fn(&str) -> Option<String>,
    api_base: &Url,
) -> Result<Url, ConfigError> {
    let raw = match get("STRIPE_JS_URL") {
        Some(raw) => raw,
        None if api_base.as_str().trim_end_matches('/') == STRIPE_API_BASE => {
            STRIPE_JS_URL.to_owned()
        }
        None => format!("{}/v3/", api_base.as_str().trim_end_matches('/')),
    };
    let url = Url::parse(&raw)
        .map_err(|e| ConfigError(format!("STRIPE_JS_URL={raw:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return err(format!("STRIPE_JS_URL={raw:?} must be an http(s) URL"));
    }
    Ok(url)
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
