//! Security review 2, M3 and L11: the stale-order sweep handles each order on its own, and a receipt
//! that cannot be built does not keep an order from being paid.

use crate::helpers::{CARD_OK, TestApp};

#[tokio::test]
async fn m3_one_failing_order_does_not_stop_the_sweep() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    // A: a hosted order whose session Stripe no longer knows (every read of it fails).
    let first = app.new_user("gone@example.com").await;
    let gone = app.buy(&first, &[("goods_stickers", 1)]).await;
    let gone = app.order_of_session(&gone).await.id;
    sqlx::query(
        "UPDATE orders SET checkout_session_id = 'cs_test_gone', reserved_until = 0 WHERE id = $1",
    )
    .bind(gone)
    .execute(&app.state.db.pool)
    .await
    .expect("broken order");
    // B: an on-page order whose reservation has run out (another buyer: one open order each).
    let second = app.new_user("left@example.com").await;
    app.fill_cart(&second, &[("goods_mug", 1)]).await;
    let left = app.pay_answer(&second).await;
    sqlx::query("UPDATE orders SET reserved_until = 0 WHERE id = $1")
        .bind(left.order_id)
        .execute(&app.state.db.pool)
        .await
        .expect("stale order");
    // Before: the sweep stopped at A, every minute, and B kept its mug.
    let pass = app.services.shop.sweep_stale_orders().await.expect("sweep");
    println!("first pass: {pass:?}");
    assert_eq!((pass.looked, pass.failed), (2, 1));
    assert_eq!(app.order(left.order_id).await.status, "expired");
    assert_eq!(app.stock_of("mug").await, (25, 0), "B's stock released");
    assert_eq!(app.order(gone).await.status, "pending");
    // A waits its pause: the next pass does not read the same failing order again.
    let again = app.services.shop.sweep_stale_orders().await.expect("sweep");
    assert_eq!(again.looked, 0, "{again:?}");
}

#[tokio::test]
async fn l11_an_unreadable_stored_email_does_not_keep_an_order_from_being_paid() {
    let app = TestApp::builder().mail().start().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("typo@example.com").await;
    let session = app.buy(&buyer, &[("goods_mug", 1)]).await;
    sqlx::query("UPDATE users SET email = 'not an address' WHERE email = 'typo@example.com'")
        .execute(&app.state.db.pool)
        .await
        .expect("a stored e-mail that no longer parses");
    app.pay(&session, CARD_OK);
    app.settle_webhooks().await;
    assert_eq!(app.order_of_session(&session).await.status, "paid");
    assert_eq!(app.stock_of("mug").await, (24, 0), "sold");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'order_receipt'")
            .await,
        0,
        "no receipt to an unreadable address"
    );
}
