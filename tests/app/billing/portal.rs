//! The billing portal: where subscribers go instead of a second checkout, and plan switches.

use crate::helpers::{CARD_OK, TestApp, location, portal_switch};
use std::time::Duration;

#[tokio::test]
async fn a_subscriber_is_sent_to_the_portal_instead_of_a_second_subscription() {
    let app = TestApp::spawn().await;
    let browser = app
        .subscriber("again@example.com", "basic_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    let response = app.request_checkout(&browser, "pro_monthly").await;
    assert_eq!(response.status(), 303);
    assert!(app.is_portal_url(&location(&response)));
}

#[tokio::test]
async fn a_subscriber_whose_webhook_is_late_still_cannot_subscribe_twice() {
    let app = TestApp::spawn().await;
    app.sim.faults().delay_deliveries(Duration::from_secs(30));
    let browser = app
        .subscriber("hasty@example.com", "basic_monthly", CARD_OK)
        .await;
    assert_eq!(
        app.role_of("hasty@example.com").await,
        "free",
        "nothing delivered or synced yet"
    );
    let response = app.request_checkout(&browser, "pro_monthly").await;
    assert_eq!(response.status(), 303);
    assert!(
        app.is_portal_url(&location(&response)),
        "{}",
        location(&response)
    );
    assert_eq!(
        app.role_of("hasty@example.com").await,
        "basic",
        "checkout read the state from Stripe"
    );
}

#[tokio::test]
async fn plan_switch_in_the_portal_changes_the_role() {
    let app = TestApp::spawn().await;
    let browser = app
        .subscriber("switch@example.com", "basic_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    assert_eq!(app.role_of("switch@example.com").await, "basic");
    let portal = app.open_portal(&browser).await;
    let subscription = app.subscription_of("switch@example.com").await;
    let pro = app.price_id("pro_monthly");
    portal_switch(&portal, &subscription, &pro).await;
    app.settle_webhooks().await;
    assert_eq!(app.role_of("switch@example.com").await, "pro");
}
