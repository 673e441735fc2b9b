//! One open way to pay per cart: switching between hosted Checkout and our own page holds the stock
//! once, and a cart paid one way is not paid again the other way.

use crate::helpers::{CARD_OK, TestApp, form_error, location};

#[tokio::test]
async fn switching_between_hosted_checkout_and_our_page_holds_the_stock_once() {
    let app = TestApp::builder().mail().start().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("switches@example.com").await;
    app.fill_cart(&buyer, &[("goods_poster", 1)]).await;
    // Hosted Checkout first; the buyer comes back and pays on our page instead. Without the rule,
    // their own reservation of the last poster would make it "sold out".
    let response = app.checkout_cart(&buyer).await;
    let session = app.session_of_checkout_url(&location(&response));
    assert_eq!(app.stock_of("poster").await, (1, 1));
    let answer = app.pay_answer(&buyer).await;
    let hosted = app
        .stripe_get(&format!("/v1/checkout/sessions/{session}"))
        .await;
    assert_eq!(
        hosted["status"], "expired",
        "the hosted page cannot be paid now"
    );
    assert_eq!(app.order_of_session(&session).await.status, "expired");
    assert_eq!(
        app.stock_of("poster").await,
        (1, 1),
        "held once, by the on-page order"
    );

    // And back to hosted Checkout: the intent is canceled.
    let response = app.checkout_cart(&buyer).await;
    assert_eq!(response.status(), 303);
    assert!(
        location(&response).contains("/checkout/cs_"),
        "{}",
        location(&response)
    );
    let intent = app
        .stripe_get(&format!("/v1/payment_intents/{}", answer.intent()))
        .await;
    assert_eq!(intent["status"], "canceled");
    assert_eq!(app.order(answer.order_id).await.status, "expired");
    assert_eq!(app.stock_of("poster").await, (1, 1));
}

#[tokio::test]
async fn a_cart_paid_on_our_page_is_not_paid_again_on_the_hosted_one() {
    let app = TestApp::builder().mail().start().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("paid-once@example.com").await;
    app.fill_cart(&buyer, &[("goods_mug", 1)]).await;
    let answer = app.pay_answer(&buyer).await;
    // Paid, but no webhook has told us and the buyer never reached the order page.
    app.settle_webhooks().await;
    app.sim.faults().fail_next_deliveries(1000, None);
    app.sim
        .act()
        .confirm_intent(answer.intent(), CARD_OK)
        .expect("paid");
    let response = app.checkout_cart(&buyer).await;
    assert_eq!(
        form_error(&location(&response)).as_deref(),
        Some(CART_ALREADY_PAID)
    );
    assert_eq!(app.order(answer.order_id).await.status, "paid");
    assert_eq!(app.stock_of("mug").await, (24, 0), "sold once");
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count");
    assert_eq!(sessions, 1, "no second order");
}

/// The shop's message, as the buyer reads it.
const CART_ALREADY_PAID: &str = "This cart has already been paid. Your order is on your dashboard.";
