//! A subscription over time: cancellation, failed renewals, gated access, and repair by resync.

use crate::helpers::{CARD_FAILS_ON_RENEWAL, CARD_OK, TestApp, location, portal_cancel};
use std::time::Duration;

const DAY: u64 = 86_400;

#[tokio::test]
async fn cancel_at_period_end_then_the_clock_ends_access() {
    let app = TestApp::spawn().await;
    let browser = app
        .subscriber("leaving@example.com", "basic_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    let portal = app.open_portal(&browser).await;
    let subscription = app.subscription_of("leaving@example.com").await;
    portal_cancel(&portal, &subscription).await;
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

/// Runs `storefront resync` against the app's database and sim, as an operator would.
async fn run_resync(app: &TestApp) -> std::process::Output {
    app.run_cli(&["resync", "--concurrency", "2"]).await
}

#[tokio::test]
async fn resync_command_repairs_state_after_lost_webhooks() {
    let app = TestApp::spawn().await;
    // The seed catalog's own webhooks first: if the start-up catalog copy lost its generation race to
    // them, they are what fills the catalog, and failing them too would leave nothing to buy.
    app.settle_webhooks().await;
    app.sim.faults().fail_next_deliveries(1000, None);
    app.subscriber("lost@example.com", "pro_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    assert_eq!(
        app.role_of("lost@example.com").await,
        "free",
        "every delivery failed"
    );
    app.sim.faults().reset();

    let output = run_resync(&app).await;
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
