//! The pricing page and Stripe Checkout: starting a subscription, paying, and what can go wrong.

use crate::helpers::{CARD_DECLINED, CARD_OK, TestApp, get_url, location};
use std::time::Duration;

#[tokio::test]
async fn pricing_page_shows_the_catalog_in_both_intervals() {
    let app = TestApp::spawn().await;
    let anonymous = app.browser();
    let html = app.page(&anonymous, "/pricing").await;
    assert!(
        html.contains(">Basic</h2>") && html.contains(">Pro</h2>"),
        "{html}"
    );
    assert!(
        html.contains("$9") && html.contains("$29") && html.contains("$290"),
        "prices from minor units"
    );
    assert!(html.contains("14-day free trial"));
    assert!(html.contains(r#"data-interval="month""#));
    let yearly = app.page(&anonymous, "/?interval=year").await;
    assert!(
        yearly.contains(r#"data-interval="year""#),
        "?interval=year works without JavaScript"
    );
    assert!(yearly.contains("Save 16% with yearly billing"));
}

#[tokio::test]
async fn subscribing_sets_the_role_through_the_webhook() {
    let app = TestApp::spawn().await;
    let browser = app
        .subscriber("pro@example.com", "pro_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    assert_eq!(app.role_of("pro@example.com").await, "pro");
    let dashboard = app.page(&browser, "/dashboard").await;
    assert!(
        dashboard.contains(r#"data-testid="plan">Pro<"#),
        "{dashboard}"
    );
    assert!(
        dashboard.contains("Free trial"),
        "Pro starts with its 14-day trial"
    );
    assert!(dashboard.contains("$29 per month"));
    assert_eq!(app.get(&browser, "/pro").await.status(), 200);
    let pricing = app.page(&browser, "/pricing").await;
    assert!(
        pricing.contains(r#"data-testid="current-plan""#),
        "current plan is marked"
    );
}

#[tokio::test]
async fn success_page_syncs_before_the_webhook_arrives() {
    let app = TestApp::spawn().await;
    app.sim.faults().delay_deliveries(Duration::from_secs(30));
    let browser = app.new_user("early@example.com").await;
    let session = app.start_checkout(&browser, "basic_monthly").await;
    let success_url = app.pay(&session, CARD_OK);
    assert!(
        success_url.starts_with(&app.url("/billing/success?session_id=cs_")),
        "{success_url}"
    );
    let page = get_url(&browser, &success_url).await;
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .expect("body")
            .contains("You are now on the Basic plan.")
    );
    assert_eq!(
        app.role_of("early@example.com").await,
        "basic",
        "no webhook delivered yet"
    );
}

#[tokio::test]
async fn someone_elses_checkout_session_is_not_found() {
    let app = TestApp::spawn().await;
    let alice = app.new_user("alice@example.com").await;
    let session = app.start_checkout(&alice, "basic_monthly").await;
    let success_url = app.pay(&session, CARD_OK);
    let bob = app.new_user("bob@example.com").await;
    let response = get_url(&bob, &success_url).await;
    assert_eq!(response.status(), 404);
    assert_eq!(app.role_of("bob@example.com").await, "free");
    let made_up = app
        .get(&bob, "/billing/success?session_id=cs_test_nope")
        .await;
    assert_eq!(made_up.status(), 404);
}

#[tokio::test]
async fn unknown_price_is_refused_without_calling_stripe() {
    let app = TestApp::spawn().await;
    let browser = app.new_user("picky@example.com").await;
    let before = app.sim.events().len();
    let response = app
        .post_script(
            &browser,
            "/api/start_checkout",
            &[("price_id", "price_does_not_exist")],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.expect("body").contains("not on sale"));
    assert_eq!(
        app.sim.events().len(),
        before,
        "no customer or session was created at Stripe"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE stripe_customer_id IS NOT NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_first() {
    let app = TestApp::spawn().await;
    let response = app.request_checkout(&app.browser(), "pro_monthly").await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login?next=/pricing");
}

/// Security review: a script gets the status, a browser keeps its redirect.
#[tokio::test]
async fn i10_signed_out_scripts_get_401_from_server_functions() {
    let app = TestApp::spawn().await;
    let script = reqwest::Client::new();
    let price = app.price_id("pro_monthly");
    for (path, form) in [
        ("/api/start_checkout", vec![("price_id", price.as_str())]),
        ("/api/open_billing_portal", vec![]),
        ("/api/pro_insights", vec![]),
    ] {
        let response = app.post_script(&script, path, &form).await;
        assert_eq!(response.status(), 401, "{path}");
        assert!(response.headers().get("location").is_none(), "{path}");
    }
}

#[tokio::test]
async fn double_click_and_two_instances_make_one_customer() {
    let app = TestApp::spawn().await;
    let second = app.another_instance().await;
    let browser = app.new_user("twice@example.com").await;
    // Same session cookie on both instances: one user double-clicking behind a load balancer.
    let (a, b, c) = tokio::join!(
        app.request_checkout(&browser, "basic_monthly"),
        second.request_checkout(&browser, "basic_monthly"),
        app.request_checkout(&browser, "basic_monthly"),
    );
    assert_eq!(
        [a.status(), b.status(), c.status()],
        [303, 303, 303],
        "{} {} {}",
        location(&a),
        location(&b),
        location(&c)
    );
    let customers: Vec<_> = app
        .sim
        .events()
        .into_iter()
        .filter(|e| e["type"] == "customer.created")
        .collect();
    assert_eq!(
        customers.len(),
        1,
        "exactly one Stripe customer: {customers:?}"
    );
    assert_eq!(
        location(&a),
        location(&b),
        "the same Checkout Session for the same click"
    );
}

#[tokio::test]
async fn declined_card_keeps_the_user_on_free() {
    let app = TestApp::spawn().await;
    let browser = app.new_user("declined@example.com").await;
    let session = app.start_checkout(&browser, "basic_monthly").await;
    assert!(
        app.sim
            .act()
            .pay_checkout(&session, None, CARD_DECLINED)
            .is_err(),
        "the card is declined"
    );
    app.settle_webhooks().await;
    assert_eq!(app.role_of("declined@example.com").await, "free");
}

#[tokio::test]
async fn stripe_errors_are_retried_and_an_outage_gets_a_clear_message() {
    let app = TestApp::spawn().await;
    let browser = app.new_user("flaky@example.com").await;
    app.sim.faults().fail_next_api_calls(2, 500);
    app.start_checkout(&browser, "basic_monthly").await;

    let other = app.new_user("outage@example.com").await;
    app.sim.faults().fail_next_api_calls(50, 503);
    let price = app.price_id("pro_monthly");
    let response = app
        .post_script(
            &other,
            "/api/start_checkout",
            &[("price_id", price.as_str())],
        )
        .await;
    assert_eq!(response.status(), 503);
    assert!(
        response
            .text()
            .await
            .expect("body")
            .contains("could not reach our payment provider")
    );
}

/// Security review L15: a 429 is retried no sooner than Stripe's `Retry-After` says.
#[tokio::test]
async fn l15_a_rate_limited_call_waits_for_retry_after() {
    let app = TestApp::spawn().await;
    app.subscriber("patient@example.com", "basic_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    let customer =
        storefront::CustomerId::from(app.customer_of("patient@example.com").await.as_str());
    app.sim.faults().set_api_retry_after(2);
    app.sim.faults().fail_next_api_calls(1, 429);
    let started = std::time::Instant::now();
    app.billing
        .sync_customer(&customer, None)
        .await
        .expect("the retry succeeds");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "retried after {:?}",
        started.elapsed()
    );
    app.sim.faults().reset();
}
