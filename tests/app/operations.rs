//! Operational behaviour: probes, headers, server-rendered pages, start-up guards.

use crate::helpers::{BROWSER_ACCEPT, STRIPE_SECRET_KEY, TestApp, WEBHOOK_SECRET, run_storefront};
use secrecy::ExposeSecret;

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
    assert!(csp.contains("script-src 'self' 'sha256-"), "{csp}");
    let html = response.text().await.expect("body");
    // The form posts to the server function's stable endpoint: it works without JavaScript.
    assert!(
        html.contains(r#"action="/api/login""#) && html.contains(r#"method="post""#),
        "{html}"
    );
    assert!(html.contains(r#"name="email""#) && html.contains(r#"name="password""#));
    assert!(
        html.contains("/pkg/storefront") && html.contains(".js"),
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

/// Security review L15: with Stripe stalled, a new instance still builds and answers its probes at
/// once; its first Stripe work (catalog, account check) runs in the background.
#[tokio::test]
async fn l15_start_up_listens_before_any_stripe_call() {
    let app = TestApp::spawn().await;
    app.sim
        .faults()
        .set_api_latency(std::time::Duration::from_secs(30));
    let database_url = app.state.config.database_url.expose_secret().to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let vars = std::collections::HashMap::from([
        ("APP_URL".to_owned(), format!("http://{addr}")),
        ("DATABASE_URL".to_owned(), database_url),
        ("STRIPE_SECRET_KEY".to_owned(), STRIPE_SECRET_KEY.to_owned()),
        (
            "STRIPE_WEBHOOK_SECRET".to_owned(),
            WEBHOOK_SECRET.to_owned(),
        ),
        ("STRIPE_API_BASE".to_owned(), app.sim.base_url().to_owned()),
        ("BIND_ADDR".to_owned(), addr.to_string()),
        ("MAIL_DISABLED".to_owned(), "1".to_owned()),
    ]);
    let config =
        storefront::config::Config::from_lookup(|name| vars.get(name).cloned()).expect("config");
    let started = std::time::Instant::now();
    // Every Stripe call takes 30 s: a build that awaited one would not return within 20 s.
    let (router, _services, startup) = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        storefront::server::build(config),
    )
    .await
    .expect("the build waits on no Stripe call")
    .expect("builds");
    eprintln!("build with Stripe stalled: {:?}", started.elapsed());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(storefront::server::serve(listener, router, async move {
        let _ = stopped.await;
    }));
    let ready = reqwest::get(format!("http://{addr}/readyz"))
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    app.sim.faults().set_api_latency(std::time::Duration::ZERO);
    drop(startup);
    let _ = stop.send(());
}
