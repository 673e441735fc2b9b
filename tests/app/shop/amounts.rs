//! Security review 2, L2: what Stripe charged decides, and a state our order cannot step to is left
//! for the operator, never forced or dropped.

use crate::helpers::{CARD_OK, TestApp};
use reqwest::Method;

async fn attention_of(app: &TestApp, order_id: i64) -> Option<String> {
    sqlx::query_scalar::<_, Option<String>>("SELECT attention FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("order")
}

#[tokio::test]
async fn l2_a_payment_of_another_amount_is_held_for_the_operator() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("lowered@example.com").await;
    app.fill_cart(&buyer, &[("goods_hoodie", 1)]).await;
    let answer = app.pay_answer(&buyer).await;
    // Someone with the secret key lowers the amount before the buyer confirms (Stripe allows it).
    let lowered = app
        .stripe_api(
            Method::POST,
            &format!("/v1/payment_intents/{}", answer.intent()),
        )
        .form(&[("amount", "100")])
        .send()
        .await
        .expect("update");
    assert!(lowered.status().is_success());
    app.sim
        .act()
        .confirm_intent(answer.intent(), CARD_OK)
        .expect("paid");
    app.settle_webhooks().await;
    // Before: marked paid and fulfilled for $1.
    assert_eq!(app.order(answer.order_id).await.status, "pending");
    let attention = attention_of(&app, answer.order_id)
        .await
        .unwrap_or_default();
    assert!(attention.contains("charged 100 usd"), "{attention}");
    assert_eq!(app.stock_of("hoodie").await, (10, 1), "held, not sold");
}

#[tokio::test]
async fn l2_paid_at_stripe_after_the_order_ended_is_flagged_not_dropped() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("late@example.com").await;
    let session = app.buy(&buyer, &[("goods_mug", 1)]).await;
    let order = app.order_of_session(&session).await;
    // The order ended here (an operator's edit, say) while its session could still be paid.
    sqlx::query("UPDATE orders SET status = 'expired' WHERE id = $1")
        .bind(order.id)
        .execute(&app.state.db.pool)
        .await
        .expect("ended");
    sqlx::query("UPDATE prices SET stock_reserved = 0 WHERE lookup_key = 'goods_mug'")
        .execute(&app.state.db.pool)
        .await
        .expect("released");
    app.pay(&session, CARD_OK);
    app.settle_webhooks().await;
    // Before: nothing was logged or kept; the money was taken and no receipt sent.
    assert_eq!(app.order(order.id).await.status, "expired");
    let attention = attention_of(&app, order.id).await.unwrap_or_default();
    assert!(attention.contains("after the order ended"), "{attention}");
}
