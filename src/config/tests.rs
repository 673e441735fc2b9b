//! Configuration parsing: defaults, refusals and what `Debug` shows.

use super::*;
use secrecy::ExposeSecret;
use std::collections::HashMap;

/// `vars` plus a local SMTP server, which every other setting here takes for granted.
fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut with_smtp = vec![("SMTP_URL", "smtp://127.0.0.1:1025")];
    with_smtp.extend_from_slice(vars);
    exact_config(&with_smtp)
}

fn exact_config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
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
    let shown: Vec<String> = c
        .trusted_proxies
        .nets
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(shown, ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"]);
    assert_eq!(
        c.trusted_proxies.header,
        ClientIpHeader::XForwardedFor,
        "the default"
    );
    let bad = config(&[
        ("STRIPE_SECRET_KEY", "sk_test_abc"),
        ("TRUSTED_PROXIES", "proxy.local"),
    ]);
    assert!(bad.unwrap_err().0.contains("TRUSTED_PROXIES"));
    let none = config(&[("STRIPE_SECRET_KEY", "sk_test_abc")]).expect("valid");
    assert!(none.trusted_proxies.nets.is_empty());
    assert!(none.password_hashing.concurrency >= 1);
}

#[test]
fn the_client_ip_header_is_one_named_header() {
    let forwarded = config(&[
        ("STRIPE_SECRET_KEY", "sk_test_abc"),
        ("CLIENT_IP_HEADER", "Forwarded"),
    ])
    .expect("valid");
    assert_eq!(forwarded.trusted_proxies.header, ClientIpHeader::Forwarded);
    let bad = config(&[
        ("STRIPE_SECRET_KEY", "sk_test_abc"),
        ("CLIENT_IP_HEADER", "x-real-ip"),
    ]);
    assert!(bad.unwrap_err().0.contains("CLIENT_IP_HEADER"));
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
        ("SMTP_URL", "smtps://shop:smtppassword@mail.example.com:465"),
    ])
    .expect("valid");
    let debug = format!("{c:?}");
    for secret in ["supersecret", "whsec_hidden", "dbpassword", "smtppassword"] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
}

#[test]
fn start_up_refuses_a_missing_smtp_url_unless_mail_is_disabled() {
    let key = ("STRIPE_SECRET_KEY", "sk_test_abc");
    let missing = exact_config(&[key]).unwrap_err();
    assert!(
        missing.0.contains("SMTP_URL is not set") && missing.0.contains("MAIL_DISABLED=1"),
        "{missing}"
    );
    let disabled = exact_config(&[key, ("MAIL_DISABLED", "1")]).expect("valid without mail");
    assert!(disabled.mail.smtp_url.is_none());
    let local = exact_config(&[key, ("SMTP_URL", "smtp://127.0.0.1:1025")]).expect("valid");
    assert_eq!(
        local.mail.smtp_url.as_ref().map(|u| u.expose_secret()),
        Some("smtp://127.0.0.1:1025")
    );
    assert_eq!(local.mail.retry_base, Duration::from_secs(5));
    assert!(exact_config(&[key, ("MAIL_DISABLED", "yes")]).is_err());
    assert!(
        exact_config(&[key, ("MAIL_DISABLED", "0")]).is_err(),
        "0 still needs SMTP_URL"
    );
}

/// Security review 2, L11: `smtp://` without `tls=required` is plaintext SMTP; it was accepted for any
/// host, so receipts crossed the network in clear.
#[test]
fn l11_plaintext_smtp_to_another_host_is_refused() {
    let key = ("STRIPE_SECRET_KEY", "sk_test_abc");
    let remote = exact_config(&[
        key,
        ("SMTP_URL", "smtp://shop:smtppassword@mail.example.com:587"),
    ])
    .unwrap_err();
    assert!(
        remote.0.contains("unencrypted") && !remote.0.contains("smtppassword"),
        "{remote}"
    );
    for accepted in [
        "smtp://shop:pw@mail.example.com:587?tls=required",
        "smtps://shop:pw@mail.example.com:465",
        "smtp://localhost:1025",
        "smtp://[::1]:1025",
    ] {
        assert!(
            exact_config(&[key, ("SMTP_URL", accepted)]).is_ok(),
            "{accepted}"
        );
    }
    let relay = exact_config(&[
        key,
        ("SMTP_URL", "smtp://relay.internal:25"),
        ("SMTP_ALLOW_PLAINTEXT", "1"),
    ]);
    assert!(relay.is_ok(), "an explicit choice for a private relay");
}

#[test]
fn smtp_url_and_sender_are_checked_without_echoing_the_password() {
    let bad = config(&[
        ("STRIPE_SECRET_KEY", "sk_test_abc"),
        ("SMTP_URL", "https://user:smtppassword@mail.example.com"),
    ])
    .unwrap_err();
    assert!(bad.0.contains("SMTP_URL must look like"), "{bad}");
    assert!(!bad.0.contains("smtppassword"), "{bad}");
    let starttls = config(&[
        ("STRIPE_SECRET_KEY", "sk_test_abc"),
        (
            "SMTP_URL",
            "smtp://user:pw@mail.example.com:587?tls=required",
        ),
    ]);
    assert!(starttls.is_ok());

    let default = config(&[("STRIPE_SECRET_KEY", "sk_test_abc")]).expect("valid");
    assert_eq!(default.mail.from.email.to_string(), "no-reply@localhost");
    assert_eq!(default.mail.from.name.as_deref(), Some("storefront"));
    let shop = config(&[
        ("STRIPE_SECRET_KEY", "sk_test_abc"),
        ("MAIL_FROM", "Shop <shop@example.com>"),
        ("MAIL_RETRY_BASE_MS", "200"),
    ])
    .expect("valid");
    assert_eq!(shop.mail.from.email.to_string(), "shop@example.com");
    assert_eq!(shop.mail.retry_base, Duration::from_millis(200));
    for (name, value) in [
        ("MAIL_FROM", "not a mailbox"),
        ("MAIL_RETRY_BASE_MS", "0"),
        ("MAIL_RETRY_BASE_MS", "soon"),
    ] {
        let refused = config(&[("STRIPE_SECRET_KEY", "sk_test_abc"), (name, value)]);
        assert!(refused.unwrap_err().0.contains(name), "{name}={value}");
    }
}

#[test]
fn stripe_js_follows_the_api_unless_set() {
    let real = config(&[("STRIPE_SECRET_KEY", "sk_test_abc")]).expect("valid");
    assert_eq!(real.stripe.js_url.as_str(), "https://js.stripe.com/v3/");
    assert_eq!(
        real.stripe.publishable_key, None,
        "paying on our page is off"
    );
    let csp = real.stripe_js_sources();
    assert_eq!(csp.connect, "https://api.stripe.com");
    assert!(csp.frame.contains("https://hooks.stripe.com"), "{csp:?}");

    let sim = config(&[
        ("STRIPE_SECRET_KEY", "sk_test_abc"),
        ("STRIPE_PUBLISHABLE_KEY", "pk_test_abc"),
        ("STRIPE_API_BASE", "http://127.0.0.1:12111"),
    ])
    .expect("valid");
    assert_eq!(sim.stripe.js_url.as_str(), "http://127.0.0.1:12111/v3/");
    assert_eq!(sim.stripe.publishable_key.as_deref(), Some("pk_test_abc"));
    let csp = sim.stripe_js_sources();
    assert_eq!(
        (
            csp.script.as_str(),
            csp.frame.as_str(),
            csp.connect.as_str()
        ),
        (
            "http://127.0.0.1:12111",
            "http://127.0.0.1:12111",
            "http://127.0.0.1:12111"
        )
    );

    let bad = config(&[
        ("STRIPE_SECRET_KEY", "sk_test_abc"),
        ("STRIPE_JS_URL", "ftp://x/v3"),
    ])
    .unwrap_err();
    assert!(bad.0.contains("STRIPE_JS_URL"), "{bad}");
}

#[test]
fn live_key_refuses_another_stripe_js() {
    let e = config(&[
        ("STRIPE_SECRET_KEY", "sk_live_abc"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_x"),
        ("APP_URL", "https://shop.example.com"),
        ("STRIPE_JS_URL", "https://evil.example.com/v3/"),
    ])
    .unwrap_err();
    assert!(e.0.contains("unset STRIPE_JS_URL"), "{e}");
}
