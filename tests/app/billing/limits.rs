//! Security review M2: no account can spend the Stripe account's rate limit, which every checkout
//! and webhook shares.

use crate::helpers::{CARD_OK, TestApp, get_url, location};

/// A well-formed but unknown session id is answered from our own records.
#[tokio::test]
async fn m2_an_unknown_checkout_session_costs_no_stripe_call() {
    let app = TestApp::spawn().await;
    let browser = app.new_user("prober@example.com").await;
    app.settle_webhooks().await;
    let before = app.sim.api_requests();
    for n in 0..20 {
        let page = app
            .get(
                &browser,
                &format!("/billing/success?session_id=cs_test_guess{n}"),
            )
            .await;
        assert_eq!(page.status(), 404);
    }
    assert_eq!(app.sim.api_requests(), before);
}

/// Reloading the success page shows the sync of a moment ago instead of asking Stripe again.
#[tokio::test]
async fn m2_success_page_reloads_reuse_a_fresh_sync() {
    let app = TestApp::spawn().await;
    let browser = app.new_user("reloader@example.com").await;
    let session = app.start_checkout(&browser, "basic_monthly").await;
    let success_url = app.pay(&session, CARD_OK);
    assert_eq!(get_url(&browser, &success_url).await.status(), 200);
    app.settle_webhooks().await;
    let before = app.sim.api_requests();
    for _ in 0..10 {
        let page = get_url(&browser, &success_url).await;
        assert_eq!(page.status(), 200);
        assert!(page.text().await.expect("body").contains("Basic"));
    }
    assert_eq!(app.sim.api_requests(), before, "no Stripe call per reload");
}

/// One user opening the portal in a loop is stopped after a burst; another user is not.
#[tokio::test]
async fn m2_billing_actions_are_limited_per_user() {
    let app = TestApp::spawn().await;
    let looper = app
        .subscriber("looper@example.com", "basic_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    let mut sent_to_portal = 0;
    let mut refused = 0;
    for _ in 0..15 {
        let response = app
            .post_script(&looper, "/api/open_billing_portal", &[])
            .await;
        match response.status().as_u16() {
            // A script is answered 200 with the redirect in `Location` (a browser form gets 303).
            200 | 303 if app.is_portal_url(&location(&response)) => sent_to_portal += 1,
            429 => {
                assert!(response.headers().contains_key("retry-after"));
                refused += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(sent_to_portal <= 10, "{sent_to_portal} portal sessions");
    assert!(refused >= 5, "{refused} refused");
    let other = app
        .subscriber("other@example.com", "basic_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    app.open_portal(&other).await;
}
