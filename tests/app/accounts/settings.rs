//! The account page: a new address (confirmed from the new inbox, the old one told), a new password
//! (the current one required), the list of sessions and "sign out everywhere else".

use super::{form_error_of, signed_in};
use crate::helpers::{
    CARD_OK, PASSWORD, TestApp, follow_verification_link, location, mail_link, unique_email,
};

const NEW_PASSWORD: &str = "a brand new secret 42";

#[tokio::test]
async fn a_new_address_counts_once_confirmed_from_its_inbox_and_the_old_one_is_told() {
    let app = TestApp::builder().mail().start().await;
    let old = unique_email("moving");
    let new = unique_email("moved");
    let browser = app.subscriber(&old, "basic_monthly", CARD_OK).await;
    app.settle_webhooks().await;
    let customer = app.customer_of(&old).await;

    let (_, wrong) = form_error_of(
        &app,
        &browser,
        "/api/change_email",
        "/account",
        &[
            ("email", new.as_str()),
            ("current_password", "not my password"),
        ],
    )
    .await;
    assert_eq!(wrong.as_deref(), Some("That is not your current password."));
    let (done, error) = form_error_of(
        &app,
        &browser,
        "/api/change_email",
        "/account",
        &[("email", new.as_str()), ("current_password", PASSWORD)],
    )
    .await;
    assert_eq!(error, None);
    assert_eq!(location(&done), "/account?email_sent=1");
    let page = app.page(&browser, "/account").await;
    assert!(
        page.contains(&old),
        "nothing changes before the link: {page}"
    );

    let mails = app.exactly_mails_to(&new, 1).await;
    assert_eq!(mails[0].subject, "Confirm your e-mail address");
    let link = mail_link(&mails[0], &app.url("/verify-email?token="));
    let confirmed = follow_verification_link(&app, &browser, &link).await;
    assert_eq!(location(&confirmed), "/account");
    let page = app.page(&browser, "/account").await;
    assert!(page.contains(&format!("{new} (confirmed)")), "{page}");

    // Stripe's receipts follow the address.
    let at_stripe = app.stripe_get(&format!("/v1/customers/{customer}")).await;
    assert_eq!(at_stripe["email"], new.as_str());
    // The old inbox had the sign-up link and the welcome, then the notice, which names no address.
    let told = app.exactly_mails_to(&old, 3).await;
    assert_eq!(told[2].subject, "Your e-mail address was changed");
    assert!(!told[2].text.contains(&new), "{}", told[2].text);
    app.sign_in(&app.browser(), &new, PASSWORD).await;
    let script = reqwest::Client::new();
    let by_old = app
        .post_script(
            &script,
            "/api/login",
            &[("email", old.as_str()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(by_old.status(), 401);
}

#[tokio::test]
async fn a_new_password_needs_the_current_one_and_signs_out_every_other_browser() {
    let app = TestApp::builder().mail().start().await;
    let email = unique_email("rotate");
    let here = app.new_user(&email).await;
    let there = app.browser();
    app.sign_in(&there, &email, PASSWORD).await;

    let change = |current: &'static str, new: &'static str| {
        let (app, here) = (&app, &here);
        async move {
            form_error_of(
                app,
                here,
                "/api/change_password",
                "/account",
                &[("current_password", current), ("password", new)],
            )
            .await
        }
    };
    let (_, wrong) = change("not my password", NEW_PASSWORD).await;
    assert_eq!(wrong.as_deref(), Some("That is not your current password."));
    assert!(signed_in(&app, &there).await, "refused changes end nothing");
    let (done, error) = change(PASSWORD, NEW_PASSWORD).await;
    assert_eq!(error, None);
    assert_eq!(location(&done), "/account?password_changed=1");
    assert!(signed_in(&app, &here).await, "this browser stays signed in");
    assert!(
        !signed_in(&app, &there).await,
        "the other one is signed out"
    );
    app.sign_in(&app.browser(), &email, NEW_PASSWORD).await;
    let mails = app.exactly_mails_to(&email, 2).await;
    assert_eq!(mails[1].subject, "Your password was changed");
}

#[tokio::test]
async fn the_account_page_lists_where_you_are_signed_in_and_signs_out_the_others() {
    let app = TestApp::spawn().await;
    let email = unique_email("sessions");
    let here = app.new_user(&email).await;
    let phone = app.browser();
    let response = phone
        .post(app.url("/api/login"))
        .header("accept", crate::helpers::BROWSER_ACCEPT)
        .header("origin", app.state.config.app_origin())
        .header("user-agent", "Phone Browser/1.0 <b>")
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 302);

    let page = app.page(&here, "/account").await;
    let mut ids: Vec<&str> = page
        .split(" id=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    let all = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        all,
        "every id once, so each label names its own input: {ids:?}"
    );
    let list = &page[page.find(r#"data-testid="sessions""#).expect("the list")..];
    let list = &list[..list.find("</ul>").expect("its end")];
    assert_eq!(list.matches("<li>").count(), 2, "{list}");
    assert_eq!(list.matches("This browser").count(), 1, "{list}");
    assert!(
        list.contains("Phone Browser/1.0 &lt;b&gt;"),
        "escaped: {list}"
    );
    assert!(
        !page.contains(
            &app.scalar_text("SELECT session_id FROM user_sessions LIMIT 1")
                .await
        )
    );

    let (_, wrong) = form_error_of(
        &app,
        &here,
        "/api/sign_out_others",
        "/account",
        &[("current_password", "not my password")],
    )
    .await;
    assert_eq!(wrong.as_deref(), Some("That is not your current password."));
    assert!(signed_in(&app, &phone).await);
    let (done, error) = form_error_of(
        &app,
        &here,
        "/api/sign_out_others",
        "/account",
        &[("current_password", PASSWORD)],
    )
    .await;
    assert_eq!(error, None);
    assert_eq!(location(&done), "/account?signed_out=1");
    assert!(!signed_in(&app, &phone).await, "the phone is signed out");
    assert!(signed_in(&app, &here).await);
    let page = app.page(&here, "/account?signed_out=1").await;
    assert!(page.contains("Every other browser was signed out."));
    let list = &page[page.find(r#"data-testid="sessions""#).expect("the list")..];
    assert_eq!(
        list[..list.find("</ul>").expect("end")]
            .matches("<li>")
            .count(),
        1
    );
}

/// An unverified account may sign in and use everything; the dashboard says so and mails a new link
/// on request, three times, then asks to wait.
#[tokio::test]
async fn an_unverified_address_is_shown_and_a_new_link_is_mailed_on_request() {
    let app = TestApp::builder().mail().start().await;
    let email = unique_email("unverified");
    let browser = app.new_user(&email).await;
    let dashboard = app.page(&browser, "/dashboard").await;
    assert!(
        dashboard.contains(r#"data-testid="unverified""#),
        "{dashboard}"
    );
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        let (response, error) = form_error_of(
            &app,
            &browser,
            "/api/resend_verification",
            "/dashboard",
            &[],
        )
        .await;
        outcomes.push(error.unwrap_or_else(|| location(&response)));
    }
    assert_eq!(
        outcomes[..3],
        ["/account?verification_sent=1"; 3],
        "{outcomes:?}"
    );
    assert!(outcomes[3].starts_with("Too many attempts"), "{outcomes:?}");
    let mails = app.exactly_mails_to(&email, 4).await;
    let link = mail_link(&mails[3], &app.url("/verify-email?token="));
    follow_verification_link(&app, &browser, &link).await;
    let dashboard = app.page(&browser, "/dashboard").await;
    assert!(
        !dashboard.contains(r#"data-testid="unverified""#),
        "{dashboard}"
    );
}
