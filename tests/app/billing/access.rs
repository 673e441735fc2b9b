//! The access policy when nothing arrives (security review M4) and when Stripe forgets a customer
//! (L14).

use crate::helpers::{CARD_OK, TestApp, eventually};
use std::time::Duration;
use storefront::db::now_unix;

const DAY: u64 = 86_400;

/// M4 (scenario B): the webhook endpoint is down while a canceled subscription ends. The stored role
/// stops granting access at its end, and reconciliation re-reads the customer from Stripe.
#[tokio::test]
async fn m4_a_lost_webhook_does_not_keep_a_paid_role() {
    let app = TestApp::spawn().await;
    let browser = app
        .subscriber("lost@example.com", "pro_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    assert_eq!(app.role_of("lost@example.com").await, "pro");
    let portal = app.open_portal(&browser).await;
    let subscription = app.subscription_of("lost@example.com").await;
    crate::helpers::portal_cancel(&portal, &subscription).await;
    app.settle_webhooks().await;

    // From here on every delivery fails: the app never hears that the subscription ended.
    app.sim.faults().fail_next_deliveries(10_000, None);
    let now = app
        .sim
        .advance_clock(Duration::from_secs(40 * DAY))
        .expect("advance clock");
    assert_eq!(
        app.role_of("lost@example.com").await,
        "pro",
        "no event arrived, so the stored role is unchanged"
    );
    let synced = app.billing.reconcile(now, 50).await.expect("reconcile");
    assert_eq!(synced, 1, "the customer whose period ended is re-read");
    assert_eq!(app.role_of("lost@example.com").await, "free");
    assert_eq!(
        app.billing.reconcile(now, 50).await.expect("reconcile"),
        0,
        "a reconciled customer is not read again"
    );
    app.sim.faults().reset();
}

/// M4: the role read on each request honours the stored access end, whatever the role column says.
#[tokio::test]
async fn m4_a_role_past_its_access_end_reads_as_free() {
    let app = TestApp::spawn().await;
    let browser = app
        .subscriber("expired@example.com", "pro_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    assert_eq!(app.get(&browser, "/pro").await.status(), 200);
    sqlx::query("UPDATE users SET access_until = $1 WHERE email = 'expired@example.com'")
        .bind(now_unix() - 60)
        .execute(&app.state.db.pool)
        .await
        .expect("expire");
    // Changed behind the app's back, so the user cache learns it from the `users` trigger at its next
    // poll (twice a second) rather than at once.
    eventually(
        Duration::from_secs(10),
        "Pro is gated once its access has ended",
        || async { app.get(&browser, "/pro").await.status() != 200 },
    )
    .await;
    let dashboard = app.page(&browser, "/dashboard").await;
    assert!(
        dashboard.contains(r#"<dd data-testid="plan">Free</dd>"#),
        "the dashboard shows the free plan: {dashboard}"
    );
}

/// L14: a customer deleted in Stripe (by support, in the dashboard) leaves the user free and able to
/// subscribe again with a new customer.
#[tokio::test]
async fn l14_a_customer_deleted_in_stripe_can_buy_again() {
    let app = TestApp::spawn().await;
    let browser = app
        .subscriber("deleted@example.com", "basic_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    let old_customer = app.customer_of("deleted@example.com").await;
    app.sim
        .act()
        .delete_customer(&old_customer)
        .expect("deleted");
    app.settle_webhooks().await;
    assert_eq!(app.role_of("deleted@example.com").await, "free");
    let session = app.start_checkout(&browser, "pro_monthly").await;
    app.pay(&session, CARD_OK);
    app.settle_webhooks().await;
    let new_customer = app.customer_of("deleted@example.com").await;
    assert_ne!(new_customer, old_customer);
    assert_eq!(app.role_of("deleted@example.com").await, "pro");
}

/// L14: the same when the deletion's webhook never arrives: Stripe's "No such customer" at the next
/// checkout unbinds the old customer.
#[tokio::test]
async fn l14_a_deleted_customer_is_noticed_without_its_webhook() {
    let app = TestApp::spawn().await;
    let browser = app
        .subscriber("silent@example.com", "basic_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    let old_customer = app.customer_of("silent@example.com").await;
    app.sim.faults().fail_next_deliveries(10_000, None);
    app.sim
        .act()
        .delete_customer(&old_customer)
        .expect("deleted");
    let response = app.request_checkout(&browser, "pro_monthly").await;
    assert_eq!(
        response.status(),
        303,
        "checkout goes on with a new customer"
    );
    assert_ne!(app.customer_of("silent@example.com").await, old_customer);
    app.sim.faults().reset();
}
