//! Operational behaviour: probes, headers, server-rendered pages, start-up guards.

use crate::helpers::{BROWSER_ACCEPT, TestApp, run_storefront};

#[tokio::test]
async fn health_and_readiness_probes_answer() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let health = client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    let ready = client.get(app.url("/readyz")).send().await.expect("readyz");
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.expect("body"), "ready");
}

#[tokio::test]
async fn pages_are_server_rendered_with_working_forms_and_security_headers() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let response = client
        .get(app.url("/login"))
        .header("accept", BROWSER_ACCEPT)
        .send()
        .await
        .expect("login page");
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(headers.contains_key("x-request-id"));
    let csp = headers["content-security-policy"].to_str().expect("ascii");
    assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
    let html = response.text().await.expect("body");
    // The form posts to the server function's stable endpoint: it works without JavaScript.
    assert!(
        html.contains(r#"action="/api/login""#) && html.contains(r#"method="post""#),
        "{html}"
    );
    assert!(html.contains(r#"name="email""#) && html.contains(r#"name="password""#));
    assert!(
        html.contains("/pkg/storefront.js"),
        "hydration script is referenced"
    );
}

#[tokio::test]
async fn unknown_pages_are_404_and_responses_are_compressed() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let missing = client
        .get(app.url("/no-such-page"))
        .header("accept", BROWSER_ACCEPT)
        .send()
        .await
        .expect("req");
    assert_eq!(missing.status(), 404);
    let home = client
        .get(app.url("/"))
        .header("accept", BROWSER_ACCEPT)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("req");
    assert_eq!(home.status(), 200);
    assert_eq!(home.headers()["content-encoding"], "gzip");
}

/// Starts the real server with `vars` (and nothing inherited that could change the outcome).
fn start_binary(vars: &[(&str, &str)]) -> std::process::Output {
    run_storefront(&[], vars)
}

#[test]
fn live_key_guard_refuses_to_start_and_says_what_to_change() {
    let http = start_binary(&[
        ("STRIPE_SECRET_KEY", "sk_live_123"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_1"),
    ]);
    assert_eq!(http.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&http.stderr);
    assert!(
        stderr.contains("set APP_URL to the public https://"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("sk_live_123"),
        "the key itself is never printed"
    );

    let sim = start_binary(&[
        ("STRIPE_SECRET_KEY", "sk_live_123"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_1"),
        ("APP_URL", "https://shop.example.com"),
        ("STRIPE_API_BASE", "http://127.0.0.1:12111"),
    ]);
    assert_eq!(sim.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&sim.stderr).contains("unset STRIPE_API_BASE"));

    let mixed = start_binary(&[
        ("STRIPE_SECRET_KEY", "sk_test_123"),
        ("STRIPE_PUBLISHABLE_KEY", "pk_live_123"),
    ]);
    assert_eq!(mixed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&mixed.stderr).contains("same mode"));
}
