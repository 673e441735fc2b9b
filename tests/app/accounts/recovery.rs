//! "Forgot password?": the same answer for any address, a single-use link that expires, and a new
//! password that signs out every session.

use super::{form_error_of, signed_in};
use crate::helpers::{PASSWORD, TestApp, get_url, location, mail_link, token_of, unique_email};

const NEW_PASSWORD: &str = "a brand new secret 42";

async fn ask_for_reset(app: &TestApp, email: &str) -> reqwest::Response {
    app.post_form(
        &app.browser(),
        "/api/forgot_password",
        "/forgot-password",
        &[("email", email)],
    )
    .await
}

#[tokio::test]
async fn forgot_password_answers_alike_for_any_address_and_its_link_resets_once() {
    let app = TestApp::builder().mail().start().await;
    let owner = unique_email("forgetful");
    let stranger = unique_email("nobody");
    app.create_account(&owner).await;
    let elsewhere = app.browser();
    app.sign_in(&elsewhere, &owner, PASSWORD).await;

    let for_owner = ask_for_reset(&app, &owner).await;
    let for_stranger = ask_for_reset(&app, &stranger).await;
    for response in [&for_owner, &for_stranger] {
        assert_eq!(response.status(), 303);
        assert_eq!(location(response), "/forgot-password?sent=1");
    }
    app.exactly_mails_to(&stranger, 0).await;
    let mails = app.exactly_mails_to(&owner, 2).await;
    assert_eq!(mails[1].subject, "Reset your password");
    assert!(mails[1].text.contains("30 minutes"), "{}", mails[1].text);
    let link = mail_link(&mails[1], &app.url("/reset-password?token="));
    let token = token_of(&link);
    let stored = app
        .scalar_text("SELECT token_hash FROM account_tokens WHERE purpose = 'reset_password'")
        .await;
    assert_ne!(stored, token, "only a hash is stored");

    let browser = app.browser();
    let page = get_url(&browser, &link).await.text().await.expect("body");
    assert!(page.contains("Set the new password"), "{page}");
    let from_page = link.trim_start_matches(&app.base).to_owned();
    let reset = |password: &'static str| {
        let (app, browser, from_page, token) = (&app, &browser, from_page.clone(), token.clone());
        async move {
            form_error_of(
                app,
                browser,
                "/api/reset_password",
                &from_page,
                &[("token", token.as_str()), ("password", password)],
            )
            .await
        }
    };
    let (_, weak) = reset("short").await;
    assert_eq!(
        weak.as_deref(),
        Some("This password is too weak: use at least 10 characters.")
    );
    let (done, error) = reset(NEW_PASSWORD).await;
    assert_eq!(error, None);
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), "/login?reset=1");
    assert!(!signed_in(&app, &elsewhere).await, "every session ended");

    let script = reqwest::Client::new();
    let old = app
        .post_script(
            &script,
            "/api/login",
            &[("email", owner.as_str()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(old.status(), 401, "the old password is gone");
    app.sign_in(&app.browser(), &owner, NEW_PASSWORD).await;
    let (_, reused) = reset("yet another secret 7").await;
    assert_eq!(reused.as_deref(), Some(storefront_link_expired()));
    let page = get_url(&browser, &link).await.text().await.expect("body");
    assert!(page.contains("expired or was already used"), "{page}");
    let mails = app.exactly_mails_to(&owner, 3).await;
    assert_eq!(mails[2].subject, "Your password was changed");
}

fn storefront_link_expired() -> &'static str {
    "This link has expired or was already used. Please ask for a new one."
}

#[tokio::test]
async fn a_reset_link_stops_working_after_thirty_minutes() {
    let app = TestApp::builder().mail().start().await;
    let owner = unique_email("late");
    app.create_account(&owner).await;
    ask_for_reset(&app, &owner).await;
    let mails = app.exactly_mails_to(&owner, 2).await;
    let link = mail_link(&mails[1], &app.url("/reset-password?token="));
    let expires_in = app
        .count(
            "SELECT expires_at - created_at FROM account_tokens WHERE purpose = 'reset_password'",
        )
        .await;
    assert_eq!(expires_in, 30 * 60);
    sqlx::query("UPDATE account_tokens SET expires_at = expires_at - 1801")
        .execute(&app.state.db.pool)
        .await
        .expect("age the link");
    let browser = app.browser();
    let page = get_url(&browser, &link).await.text().await.expect("body");
    assert!(page.contains("expired or was already used"), "{page}");
    let (_, error) = form_error_of(
        &app,
        &browser,
        "/api/reset_password",
        link.trim_start_matches(&app.base),
        &[
            ("token", token_of(&link).as_str()),
            ("password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(error.as_deref(), Some(storefront_link_expired()));
    app.sign_in(&app.browser(), &owner, PASSWORD).await;
}

/// Three reset mails to one address, then one every 20 minutes, whoever asks; another address is
/// not held up.
#[tokio::test]
async fn reset_mails_are_limited_per_address() {
    let app = TestApp::spawn().await;
    let script = reqwest::Client::new();
    let ask = |email: String| {
        let (app, script) = (&app, &script);
        async move {
            app.post_script(script, "/api/forgot_password", &[("email", email.as_str())])
                .await
                .status()
                .as_u16()
        }
    };
    let target = unique_email("flooded");
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(ask(target.clone()).await);
    }
    assert_eq!(statuses[..3], [200, 200, 200], "{statuses:?}");
    assert_eq!(statuses[3], 429, "{statuses:?}");
    assert_eq!(ask(unique_email("other")).await, 200);
}
