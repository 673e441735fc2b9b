//! Accounts over HTTP against the real app and database.

use crate::helpers::{PASSWORD, TestApp, get_url, location, session_cookie};

#[tokio::test]
async fn https_app_sets_secure_cookies() {
    let app = TestApp::spawn_with(&[("APP_URL", "https://shop.example.com")]).await;
    let browser = app.browser();
    let mut responses = Vec::new();
    for path in ["/api/signup", "/api/login"] {
        let response = browser
            .post(app.url(path))
            .header("origin", "https://shop.example.com")
            .form(&[("email", "sec@example.com"), ("password", PASSWORD)])
            .send()
            .await
            .expect("request");
        responses.push(response);
    }
    let cookie = session_cookie(&responses[1]).expect("session cookie set");
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn sign_out_then_sign_in_again_with_a_new_session_id() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    app.sign_up(&browser, "grace@example.com", PASSWORD).await;

    let out = app
        .post_form(&browser, "/api/logout", "/dashboard", &[])
        .await;
    assert_eq!(out.status(), 302);
    assert_eq!(location(&out), "/");
    let dashboard = app.get(&browser, "/dashboard").await;
    assert_eq!(
        dashboard.status(),
        302,
        "signed out users are sent to sign in"
    );
    assert_eq!(location(&dashboard), "/login?next=/dashboard");

    let first = app
        .post_form(
            &browser,
            "/api/login",
            "/login",
            &[("email", "GRACE@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(first.status(), 302);
    assert_eq!(location(&first), "/dashboard");
    let first_cookie = session_cookie(&first).expect("cookie");
    // Signing in again while signed in must still issue a fresh id (no session fixation).
    let second = app
        .post_form(
            &browser,
            "/api/login",
            "/login",
            &[("email", "grace@example.com"), ("password", PASSWORD)],
        )
        .await;
    let second_cookie = session_cookie(&second).expect("cookie");
    assert_ne!(
        first_cookie.split(';').next(),
        second_cookie.split(';').next(),
        "session id rotated at sign-in"
    );
    assert_eq!(app.get(&browser, "/dashboard").await.status(), 200);
}

#[tokio::test]
async fn sign_in_goes_back_to_the_page_it_came_from() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    app.sign_up(&browser, "back@example.com", PASSWORD).await;
    app.post_form(&browser, "/api/logout", "/", &[]).await;
    let response = app
        .post_form(
            &browser,
            "/api/login",
            "/login?next=/pricing",
            &[
                ("email", "back@example.com"),
                ("password", PASSWORD),
                ("next", "/pricing"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/pricing");
    let evil = app
        .post_form(
            &browser,
            "/api/login",
            "/login",
            &[
                ("email", "back@example.com"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(location(&evil), "/dashboard", "no open redirect");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    app.sign_up(&browser, "lin@example.com", PASSWORD).await;
    let script = reqwest::Client::new();

    let wrong = app
        .post_script(
            &script,
            "/api/login",
            &[
                ("email", "lin@example.com"),
                ("password", "not my password"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 401);
    let wrong_body = wrong.text().await.expect("body");
    let unknown = app
        .post_script(
            &script,
            "/api/login",
            &[("email", "nobody@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(unknown.status(), 401);
    assert_eq!(
        unknown.text().await.expect("body"),
        wrong_body,
        "no hint which of the two was wrong"
    );
    assert!(
        wrong_body.contains("Wrong e-mail or password"),
        "{wrong_body}"
    );
}

#[tokio::test]
async fn form_errors_come_back_inline_without_javascript() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let response = app
        .post_form(
            &browser,
            "/api/login",
            "/login",
            &[("email", "who@example.com"), ("password", "whatever123")],
        )
        .await;
    assert_eq!(
        response.status(),
        302,
        "a plain form post is sent back to its page"
    );
    let back = location(&response);
    assert!(back.starts_with(&app.url("/login?")), "{back}");
    let page = get_url(&browser, &back).await;
    let html = page.text().await.expect("body");
    assert!(
        html.contains(r#"class="notice error">Wrong e-mail or password.</p>"#),
        "error shown inline: {back}\n{html}"
    );
}

#[tokio::test]
async fn weak_password_and_bad_email_are_explained() {
    let app = TestApp::spawn().await;
    let script = reqwest::Client::new();
    let weak = app
        .post_script(
            &script,
            "/api/signup",
            &[("email", "weak@example.com"), ("password", "short")],
        )
        .await;
    assert_eq!(weak.status(), 422);
    assert!(
        weak.text()
            .await
            .expect("body")
            .contains("at least 10 characters")
    );
    let common = app
        .post_script(
            &script,
            "/api/signup",
            &[("email", "weak@example.com"), ("password", "password123")],
        )
        .await;
    assert_eq!(common.status(), 422);
    let bad_email = app
        .post_script(
            &script,
            "/api/signup",
            &[("email", "not-an-email"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(bad_email.status(), 422);
    assert!(
        bad_email
            .text()
            .await
            .expect("body")
            .contains("valid e-mail")
    );
    // Nothing was created by the refused attempts.
    let login = app
        .post_script(
            &script,
            "/api/login",
            &[("email", "weak@example.com"), ("password", "password123")],
        )
        .await;
    assert_eq!(login.status(), 401);
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    for (header, value) in [
        ("origin", "https://evil.example"),
        ("referer", "https://evil.example/form"),
    ] {
        let response = client
            .post(app.url("/api/signup"))
            .header(header, value)
            .form(&[("email", "csrf@example.com"), ("password", PASSWORD)])
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 403, "{header}: {value}");
        assert!(session_cookie(&response).is_none());
    }
    // The refused sign-up created no account: the e-mail is still free.
    app.sign_up(&client, "csrf@example.com", PASSWORD).await;
    // A cross-site sign-out is refused too: the user stays signed in.
    let logout = client
        .post(app.url("/api/logout"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("req");
    assert_eq!(logout.status(), 403);
    assert_eq!(app.get(&client, "/dashboard").await.status(), 200);
}

#[tokio::test]
async fn repeated_wrong_passwords_are_rate_limited_per_account() {
    let app = TestApp::spawn().await;
    app.create_account("target@example.com").await;
    let script = reqwest::Client::new();
    for attempt in 1..=5 {
        let response = app
            .post_script(
                &script,
                "/api/login",
                &[("email", "target@example.com"), ("password", "guess-guess")],
            )
            .await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }
    let limited = app
        .post_script(
            &script,
            "/api/login",
            &[("email", "target@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        limited.status(),
        429,
        "even the right password waits once the account is throttled"
    );
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    assert!(limited.text().await.expect("body").contains("Try again in"));
}

#[tokio::test]
async fn many_accounts_from_one_ip_are_rate_limited_per_ip() {
    let app = TestApp::spawn().await;
    let script = reqwest::Client::new();
    let started = std::time::Instant::now();
    let mut statuses = Vec::new();
    // Burst 20, then one more every 3 s: a slow machine refills a token or two along the way.
    for n in 0..40 {
        let email = format!("probe{n}@example.com");
        let response = app
            .post_script(
                &script,
                "/api/login",
                &[("email", email.as_str()), ("password", "guess-guess")],
            )
            .await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            break;
        }
    }
    let refilled = (started.elapsed().as_secs() / 3) as usize + 1;
    assert!(statuses[..20].iter().all(|&s| s == 401), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(
        statuses.len() <= 21 + refilled,
        "{} attempts before 429 in {:?}: {statuses:?}",
        statuses.len(),
        started.elapsed()
    );
}
