//! Subscriptions end to end over HTTP: the app and stripe-sim on random ports, a fresh database.

mod common;

use common::{CARD_DECLINED, CARD_FAILS_ON_RENEWAL, CARD_OK, TestApp, location};
use std::time::Duration;

const DAY: u64 = 86_400;

async fn open_portal(app: &TestApp, browser: &reqwest::Client) -> String {
    let response = app
        .post_form(browser, "/api/open_billing_portal", "/dashboard", &[])
        .await;
    assert_eq!(response.status(), 303);
    let url = location(&response);
    assert!(
        url.starts_with(&format!("{}/portal/", app.sim.base_url())),
        "{url}"
    );
    url
}

async fn subscription_of(app: &TestApp, email: &str) -> String {
    sqlx::query_scalar::<_, String>(
        "SELECT s.id FROM subscriptions s JOIN users u ON u.id = s.user_id WHERE u.email = $1 ORDER BY s.created DESC",
    )
    .bind(email)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("subscription synced")
}

/// Posts a form of the sim's hosted portal page, as the customer's browser would.
async fn portal_action(portal_url: &str, action: &str, form: &[(&str, &str)]) {
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{portal_url}/{action}"))
        .form(form)
        .send()
        .await
        .expect("portal request");
    assert!(
        response.status().is_redirection() || response.status().is_success(),
        "portal {action}: {}",
        response.status()
    );
}

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
    app.sim.delay_deliveries(Duration::from_secs(30));
    let browser = app.new_user("early@example.com").await;
    let session = app.start_checkout(&browser, "basic_monthly").await;
    let success_url = app.pay(&session, CARD_OK);
    assert!(
        success_url.starts_with(&app.url("/billing/success?session_id=cs_")),
        "{success_url}"
    );
    let page = browser
        .get(&success_url)
        .header("accept", common::BROWSER_ACCEPT)
        .send()
        .await
        .expect("success");
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
    app.sim.reset_faults();
}

#[tokio::test]
async fn someone_elses_checkout_session_is_not_found() {
    let app = TestApp::spawn().await;
    let alice = app.new_user("alice@example.com").await;
    let session = app.start_checkout(&alice, "basic_monthly").await;
    let success_url = app.pay(&session, CARD_OK);
    let bob = app.new_user("bob@example.com").await;
    let response = bob
        .get(&success_url)
        .header("accept", common::BROWSER_ACCEPT)
        .send()
        .await
        .expect("request");
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
    let price = app.price("pro_monthly");
    let response = app
        .post_form(
            &app.browser(),
            "/api/start_checkout",
            "/pricing",
            &[("price_id", price.as_str())],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login?next=/pricing");
}

#[tokio::test]
async fn double_click_and_two_instances_make_one_customer() {
    let app = TestApp::spawn().await;
    let second = app.another_instance().await;
    let browser = app.new_user("twice@example.com").await;
    let price = app.price("basic_monthly");
    let form = [("price_id", price.as_str())];
    // Same session cookie on both instances: one user double-clicking behind a load balancer.
    let (a, b, c) = tokio::join!(
        app.post_form(&browser, "/api/start_checkout", "/pricing", &form),
        second.post_form(&browser, "/api/start_checkout", "/pricing", &form),
        app.post_form(&browser, "/api/start_checkout", "/pricing", &form),
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
async fn a_subscriber_is_sent_to_the_portal_instead_of_a_second_subscription() {
    let app = TestApp::spawn().await;
    let browser = app
        .subscriber("again@example.com", "basic_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    let price = app.price("pro_monthly");
    let response = app
        .post_form(
            &browser,
            "/api/start_checkout",
            "/pricing",
            &[("price_id", price.as_str())],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert!(location(&response).starts_with(&format!("{}/portal/", app.sim.base_url())));
}

#[tokio::test]
async fn declined_card_keeps_the_user_on_free() {
    let app = TestApp::spawn().await;
    let browser = app.new_user("declined@example.com").await;
    let session = app.start_checkout(&browser, "basic_monthly").await;
    assert!(
        app.sim.pay_checkout(&session, None, CARD_DECLINED).is_err(),
        "the card is declined"
    );
    app.settle_webhooks().await;
    assert_eq!(app.role_of("declined@example.com").await, "free");
}

#[tokio::test]
async fn plan_switch_in_the_portal_changes_the_role() {
    let app = TestApp::spawn().await;
    let browser = app
        .subscriber("switch@example.com", "basic_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    assert_eq!(app.role_of("switch@example.com").await, "basic");
    let portal = open_portal(&app, &browser).await;
    let subscription = subscription_of(&app, "switch@example.com").await;
    let pro = app.price("pro_monthly");
    portal_action(
        &portal,
        "switch",
        &[
            ("subscription", subscription.as_str()),
            ("price", pro.as_str()),
        ],
    )
    .await;
    app.settle_webhooks().await;
    assert_eq!(app.role_of("switch@example.com").await, "pro");
}

#[tokio::test]
async fn cancel_at_period_end_then_the_clock_ends_access() {
    let app = TestApp::spawn().await;
    let browser = app
        .subscriber("leaving@example.com", "basic_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    let portal = open_portal(&app, &browser).await;
    let subscription = subscription_of(&app, "leaving@example.com").await;
    portal_action(
        &portal,
        "cancel",
        &[("subscription", subscription.as_str())],
    )
    .await;
    app.settle_webhooks().await;
    let dashboard = app.page(&browser, "/dashboard").await;
    assert!(
        dashboard.contains(r#"data-testid="ends-on""#),
        "the end date is shown: {dashboard}"
    );
    assert_eq!(
        app.role_of("leaving@example.com").await,
        "basic",
        "access lasts until the period ends"
    );
    app.sim
        .advance_clock(Duration::from_secs(32 * DAY))
        .expect("advance clock");
    app.settle_webhooks().await;
    assert_eq!(app.role_of("leaving@example.com").await, "free");
}

#[tokio::test]
async fn failed_renewal_shows_a_notice_then_ends_access() {
    let app = TestApp::spawn().await;
    let browser = app
        .subscriber("card@example.com", "basic_monthly", CARD_FAILS_ON_RENEWAL)
        .await;
    app.settle_webhooks().await;
    assert_eq!(app.role_of("card@example.com").await, "basic");
    app.sim
        .advance_clock(Duration::from_secs(31 * DAY))
        .expect("renewal");
    app.settle_webhooks().await;
    assert_eq!(
        app.role_of("card@example.com").await,
        "basic",
        "past_due keeps access during retries"
    );
    let dashboard = app.page(&browser, "/dashboard").await;
    assert!(
        dashboard.contains(r#"data-testid="payment-failed""#),
        "{dashboard}"
    );
    app.sim
        .advance_clock(Duration::from_secs(30 * DAY))
        .expect("retry schedule runs out");
    app.settle_webhooks().await;
    assert_eq!(app.role_of("card@example.com").await, "free");
}

#[tokio::test]
async fn stripe_errors_are_retried_and_an_outage_gets_a_clear_message() {
    let app = TestApp::spawn().await;
    let browser = app.new_user("flaky@example.com").await;
    app.sim.fail_next_api_calls(2, 500);
    app.start_checkout(&browser, "basic_monthly").await;

    let other = app.new_user("outage@example.com").await;
    app.sim.fail_next_api_calls(50, 503);
    let price = app.price("pro_monthly");
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
    app.sim.reset_faults();
}

#[tokio::test]
async fn gated_page_and_its_server_function_refuse_non_pro_users() {
    let app = TestApp::spawn().await;
    let anonymous = app.browser();
    let page = app.get(&anonymous, "/pro").await;
    assert_eq!(page.status(), 302);
    assert_eq!(location(&page), "/login?next=/pro");
    assert_eq!(
        app.post_script(&anonymous, "/api/pro_insights", &[])
            .await
            .status(),
        401
    );

    let basic = app
        .subscriber("basic@example.com", "basic_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    let offer = app.get(&basic, "/pro").await;
    assert_eq!(offer.status(), 403);
    assert!(offer.text().await.expect("body").contains("Upgrade to Pro"));
    assert_eq!(
        app.post_script(&basic, "/api/pro_insights", &[])
            .await
            .status(),
        403
    );

    let pro = app
        .subscriber("pro2@example.com", "pro_yearly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    let insights = app.post_script(&pro, "/api/pro_insights", &[]).await;
    assert_eq!(insights.status(), 200);
    assert!(
        insights
            .text()
            .await
            .expect("body")
            .contains("Priority support")
    );
}

#[tokio::test]
async fn resync_command_repairs_state_after_lost_webhooks() {
    let app = TestApp::spawn().await;
    app.sim.fail_next_deliveries(1000, None);
    app.subscriber("lost@example.com", "pro_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    assert_eq!(
        app.role_of("lost@example.com").await,
        "free",
        "every delivery failed"
    );
    app.sim.reset_faults();

    let database_url = app.state.config.database_url.clone();
    let output = tokio::task::spawn_blocking({
        let api_base = app.sim.base_url().to_owned();
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_storefront"))
                .args(["resync", "--concurrency", "2"])
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("DATABASE_URL", database_url)
                .env("STRIPE_SECRET_KEY", "sk_test_storefront_tests")
                .env("STRIPE_API_BASE", api_base)
                .env("RUST_LOG", "warn")
                .current_dir(std::env::temp_dir())
                .output()
                .expect("storefront resync runs")
        }
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("[1/1] cus_") && stdout.contains("role: Pro"),
        "{stdout}"
    );
    assert!(
        stdout.contains("resync finished: 1 synced, 0 failed"),
        "{stdout}"
    );
    assert_eq!(app.role_of("lost@example.com").await, "pro");
}

#[tokio::test]
async fn a_subscriber_whose_webhook_is_late_still_cannot_subscribe_twice() {
    let app = TestApp::spawn().await;
    app.sim.delay_deliveries(Duration::from_secs(30));
    let browser = app
        .subscriber("hasty@example.com", "basic_monthly", CARD_OK)
        .await;
    assert_eq!(
        app.role_of("hasty@example.com").await,
        "free",
        "nothing delivered or synced yet"
    );
    let price = app.price("pro_monthly");
    let response = app
        .post_form(
            &browser,
            "/api/start_checkout",
            "/pricing",
            &[("price_id", price.as_str())],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert!(
        location(&response).starts_with(&format!("{}/portal/", app.sim.base_url())),
        "{}",
        location(&response)
    );
    assert_eq!(
        app.role_of("hasty@example.com").await,
        "basic",
        "checkout read the state from Stripe"
    );
    app.sim.reset_faults();
}
