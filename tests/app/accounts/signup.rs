//! Sign-up that tells nobody whether an address has an account, and the link that confirms one.

use crate::helpers::{
    PASSWORD, TestApp, follow_verification_link, location, mail_link, session_cookie, unique_email,
};

/// Issue 21: sign-up signs nobody in; the mailed link confirms the address and signs in.
#[tokio::test]
async fn sign_up_mails_a_link_that_confirms_the_address_and_signs_in() {
    let app = TestApp::builder().mail().start().await;
    let email = unique_email("ada");
    let browser = app.browser();
    let typed = format!("  {} ", email.to_uppercase());
    let response = app
        .post_form(
            &browser,
            "/api/signup",
            "/signup?next=/pricing",
            &[
                ("email", typed.as_str()),
                ("password", PASSWORD),
                ("next", "/pricing"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/signup/check-email?next=/pricing");
    assert_eq!(session_cookie(&response), None, "nobody is signed in yet");
    let before = app.get(&browser, "/dashboard").await;
    assert!(before.status().is_redirection(), "not signed in yet");

    let mails = app.exactly_mails_to(&email, 1).await;
    assert_eq!(mails[0].subject, "Confirm your e-mail address");
    let link = mail_link(&mails[0], &app.url("/verify-email?token="));
    let response = follow_verification_link(&app, &browser, &link).await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        "/pricing",
        "continues where sign-up began"
    );
    let cookie = session_cookie(&response).expect("signed in by the link");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");

    let html = app.page(&browser, "/dashboard").await;
    assert!(html.contains(&email), "the address is normalised and shown");
    assert!(
        html.contains(r#"data-testid="plan">Free<"#),
        "new accounts are free"
    );
    assert!(
        !html.contains(r#"data-testid="unverified""#),
        "confirmed: {html}"
    );
    // The link is spent.
    let again = follow_verification_link(&app, &app.browser(), &link).await;
    assert_eq!(again.status(), 302, "sent back to the page with the error");
}

/// Issue 21 (review 1, L11): sign-up does not tell whether an address has an account. A taken one
/// (in any case) gets the same answer as a new one; its owner is told, and nothing of the account
/// changes.
#[tokio::test]
async fn sign_up_with_a_taken_address_answers_like_a_new_one_and_tells_the_owner() {
    let app = TestApp::builder().mail().start().await;
    let owner = unique_email("taken");
    let newcomer = unique_email("newcomer");
    app.create_account(&owner).await;
    let attempt = |email: String| {
        let app = &app;
        async move {
            let browser = app.browser();
            let response = app
                .post_form(
                    &browser,
                    "/api/signup",
                    "/signup",
                    &[
                        ("email", email.as_str()),
                        ("password", "another password 9"),
                    ],
                )
                .await;
            let cookie = session_cookie(&response);
            (response.status(), location(&response), cookie)
        }
    };
    let taken = attempt(owner.to_uppercase()).await;
    let new = attempt(newcomer.clone()).await;
    assert_eq!(taken, new, "the same answer either way");
    assert_eq!(taken.2, None, "nobody is signed in");

    let mails = app.exactly_mails_to(&owner, 2).await;
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(
        subjects,
        ["Confirm your e-mail address", "You already have an account"]
    );
    assert!(
        mails[1].text.contains(&app.url("/forgot-password")),
        "{}",
        mails[1].text
    );
    // The owner's password is the one it was.
    let wrong = app
        .post_script(
            &reqwest::Client::new(),
            "/api/login",
            &[
                ("email", owner.as_str()),
                ("password", "another password 9"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 401);
    app.sign_in(&app.browser(), &owner, PASSWORD).await;
}
