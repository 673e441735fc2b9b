//! Security review L8 and L16: response headers, the session cookie, and the cross-site check.

use crate::helpers::{PASSWORD, TestApp, session_cookie};

#[tokio::test]
async fn l16_signed_in_responses_are_never_cached() {
    let app = TestApp::spawn().await;
    let visitor = app.browser();
    let anonymous = app.get(&visitor, "/pricing").await;
    assert!(anonymous.headers().get("cache-control").is_none());
    let browser = app.new_user("cache@example.com").await;
    for path in ["/dashboard", "/pricing"] {
        let page = app.get(&browser, path).await;
        assert_eq!(
            page.headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn l16_csp_limits_form_targets_to_this_site_and_stripes_pages() {
    let app = TestApp::spawn().await;
    let page = app.get(&app.browser(), "/pricing").await;
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    // Checkout and the portal are reached by a 303 after a form post, which form-action also governs.
    let expected = format!("form-action 'self' {}", app.sim.base_url());
    assert!(csp.contains(&expected), "{csp}");
    let permissions = page.headers()["permissions-policy"]
        .to_str()
        .expect("ascii");
    assert!(
        !permissions.contains("interest-cohort"),
        "obsolete: {permissions}"
    );
}

#[tokio::test]
async fn l16_the_session_cookie_is_host_only_under_https() {
    let app = TestApp::spawn_with(&[("APP_URL", "https://shop.example.com")]).await;
    let mut responses = Vec::new();
    for path in ["/api/signup", "/api/login"] {
        let response = app
            .browser()
            .post(app.url(path))
            .header("origin", "https://shop.example.com")
            .form(&[("email", "host@example.com"), ("password", PASSWORD)])
            .send()
            .await
            .expect("request");
        responses.push(response);
    }
    let cookie = session_cookie(&responses[1]).expect("session cookie set");
    assert!(cookie.starts_with("__Host-"), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Domain="), "{cookie}");
}

#[tokio::test]
async fn l8_an_origin_equal_to_host_but_not_app_url_is_refused() {
    let app = TestApp::spawn_with(&[("APP_URL", "https://shop.example.com")]).await;
    // A proxy forwarding any Host: the request claims to come from the host it names.
    let response = app
        .browser()
        .post(app.url("/api/signup"))
        .header("host", "attacker.example")
        .header("origin", "https://attacker.example")
        .form(&[("email", "host2@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 403);
}

/// Security review L8: a POST that names no origin at all (no Origin, Referer or Sec-Fetch-Site) is
/// refused when it carries our session cookie; scripts without a session still work.
#[tokio::test]
async fn l8_a_headerless_post_with_a_session_cookie_is_refused() {
    let app = TestApp::spawn().await;
    let browser = app.new_user("old-browser@example.com").await;
    let headerless = browser
        .post(app.url("/api/logout"))
        .form(&[("", "")])
        .send()
        .await
        .expect("request");
    assert_eq!(headerless.status(), 403);
    assert_eq!(
        app.get(&browser, "/dashboard").await.status(),
        200,
        "still signed in"
    );
    let script = app.browser();
    let login = script
        .post(app.url("/api/login"))
        .form(&[("email", "old-browser@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .expect("request");
    assert!(
        login.status().is_success() || login.status().is_redirection(),
        "a script without a session is not a CSRF victim: it signs in ({})",
        login.status()
    );
}

/// Security review 2, L11: a client's `X-Request-Id` went into the logs verbatim (forging fields in text
/// logs). Now only a UUID is kept (a proxy's id, to follow a request across logs); anything else is
/// replaced by our own.
#[tokio::test]
async fn l11_a_client_request_id_is_kept_only_if_it_is_a_uuid() {
    let app = TestApp::spawn().await;
    let request_id = |sent: &'static str| {
        let app = &app;
        async move {
            let answer = app
                .browser()
                .get(app.url("/healthz"))
                .header("x-request-id", sent)
                .send()
                .await
                .expect("request");
            answer.headers()["x-request-id"]
                .to_str()
                .expect("ascii")
                .to_owned()
        }
    };
    let forged = request_id("abc status=500 user=admin").await;
    assert_ne!(forged, "abc status=500 user=admin");
    assert!(
        uuid::Uuid::try_parse(&forged).is_ok(),
        "ours instead: {forged}"
    );
    let proxy_id = "5f0c6f2e-8a4b-4c1d-9e7f-0123456789ab";
    assert_eq!(
        request_id(proxy_id).await,
        proxy_id,
        "a proxy's UUID is kept"
    );
}
