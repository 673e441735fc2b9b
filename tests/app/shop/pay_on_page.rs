//! Paying on our own page: `/api/pay_cart` creates the order, its reservation and a PaymentIntent
//! for the server's total; the buyer confirms it with Stripe.js (here: the sim's confirm, exactly
//! the calls Stripe.js makes), and the order follows the intent as Stripe reports it.

use crate::helpers::{CARD_DECLINED, CARD_OK, STRIPE_PUBLISHABLE_KEY, TestApp, testid_text};

const CARD_3DS: &str = "4000002500003155";

#[tokio::test]
async fn the_intent_charges_the_servers_total_whatever_the_client_sends() {
    let app = TestApp::builder().mail().start().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("on-page@example.com").await;
    app.fill_cart(&buyer, &[("goods_mug", 2), ("goods_stickers", 1)])
        .await;
    let tampered = app
        .pay_cart(
            &buyer,
            &[("amount", "1"), ("currency", "jpy"), ("total", "1")],
        )
        .await;
    assert_eq!(tampered.status(), 200, "unknown fields are ignored");
    let answer = app.pay_answer(&buyer).await;
    assert_eq!(answer.publishable_key, STRIPE_PUBLISHABLE_KEY);
    let intent = app
        .stripe_get(&format!("/v1/payment_intents/{}", answer.intent()))
        .await;
    // The catalog's goods and the standard rate for the address the page asked for (under $50).
    assert_eq!(intent["amount"], 2 * 1400 + 500 + 500, "the server's total");
    assert_eq!(intent["shipping"]["address"]["city"], "Springfield");
    assert_eq!(intent["currency"], "usd");
    assert_eq!(intent["status"], "requires_payment_method");
    assert_eq!(intent["metadata"]["order_id"], answer.order_id.to_string());
    assert!(
        intent["customer"]
            .as_str()
            .is_some_and(|c| c.starts_with("cus_")),
        "{intent}"
    );
    let order = app.order(answer.order_id).await;
    assert_eq!(order.status, "pending");
    assert_eq!(order.payment_intent_id.as_deref(), Some(answer.intent()));
    assert_eq!(order.checkout_session_id, None);
    // Reserved once: the tampered call and the second one share the order and the intent.
    assert_eq!(app.stock_of("mug").await, (25, 2));
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count");
    assert_eq!(count, 1, "one order for one cart");

    // The page shows the same total and the card form, with Stripe.js admitted by its CSP.
    let response = app.get(&buyer, "/shop/pay").await;
    let csp = response
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let page = response.text().await.expect("page");
    assert_eq!(testid_text(&page, "pay-total"), Some("$38"), "{page}");
    assert!(page.contains(&format!("data-stripe-js=\"{}/v3/\"", app.sim.base_url())));
    assert!(
        csp.contains(&format!("frame-src {}", app.sim.base_url())),
        "{csp}"
    );
    assert!(
        !page.contains(&answer.client_secret),
        "the secret is only for the island"
    );
}

#[tokio::test]
async fn a_confirmed_intent_marks_the_order_paid_sells_and_sends_one_receipt() {
    let app = TestApp::builder().mail().start().await;
    app.settle_webhooks().await;
    let email = "intent-paid@example.com";
    let buyer = app.new_user(email).await;
    app.fill_cart(&buyer, &[("goods_hoodie", 1)]).await;
    let answer = app.pay_answer(&buyer).await;
    assert_eq!(app.stock_of("hoodie").await, (10, 1), "held");
    let status = app
        .sim
        .act()
        .confirm_intent(answer.intent(), CARD_OK)
        .expect("paid");
    assert_eq!(status, "succeeded");
    app.settle_webhooks().await;
    assert_eq!(app.order(answer.order_id).await.status, "paid");
    assert_eq!(app.stock_of("hoodie").await, (9, 0), "sold");
    let mails = app.mails_after_sign_up(email, 1).await;
    assert!(mails[0].text.contains("Hoodie"), "{}", mails[0].text);

    // Where the island sends the buyer: the order, read from Stripe, and the cart is spent.
    let page = app
        .page(
            &buyer,
            &format!(
                "/shop/orders/{}?payment_intent={}",
                answer.order_id,
                answer.intent()
            ),
        )
        .await;
    assert_eq!(testid_text(&page, "order-status"), Some("Paid"));
    let cart = app.page(&buyer, "/cart").await;
    assert!(cart.contains("data-testid=\"cart-empty\""));
    let dashboard = app.page(&buyer, "/dashboard").await;
    assert!(dashboard.contains(&format!("/shop/orders/{}", answer.order_id)));
}

#[tokio::test]
async fn the_order_page_reads_the_intent_not_the_url() {
    let app = TestApp::builder().mail().start().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("early-intent@example.com").await;
    app.fill_cart(&buyer, &[("goods_mug", 1)]).await;
    let answer = app.pay_answer(&buyer).await;
    let unpaid = format!(
        "/shop/orders/{}?payment_intent={}",
        answer.order_id,
        answer.intent()
    );
    let page = app.page(&buyer, &unpaid).await;
    assert_eq!(
        testid_text(&page, "order-status"),
        Some("Awaiting payment"),
        "not paid yet"
    );
    assert!(
        page.contains("http-equiv=\"refresh\""),
        "it refreshes itself"
    );

    app.sim.faults().fail_next_deliveries(1000, None);
    app.sim
        .act()
        .confirm_intent(answer.intent(), CARD_OK)
        .expect("paid");
    let page = app.page(&buyer, &unpaid).await;
    assert_eq!(
        testid_text(&page, "order-status"),
        Some("Paid"),
        "synced from Stripe"
    );
    assert_eq!(app.stock_of("mug").await, (24, 0));
    app.sim.faults().reset();
    app.settle_webhooks().await;
    assert_eq!(app.stock_of("mug").await, (24, 0), "sold once");
}

#[tokio::test]
async fn a_declined_card_leaves_the_order_payable_with_another_card() {
    let app = TestApp::builder().mail().start().await;
    app.settle_webhooks().await;
    let email = "declined-then-ok@example.com";
    let buyer = app.new_user(email).await;
    app.fill_cart(&buyer, &[("goods_stickers", 3)]).await;
    let answer = app.pay_answer(&buyer).await;
    let declined = app
        .sim
        .act()
        .confirm_intent(answer.intent(), CARD_DECLINED)
        .expect_err("declined");
    assert_eq!(declined.code.as_deref(), Some("card_declined"));
    app.settle_webhooks().await;
    assert_eq!(
        app.order(answer.order_id).await.status,
        "pending",
        "payable"
    );
    assert_eq!(app.stock_of("stickers").await, (100, 3), "still held");

    // The retry gets the same order and intent, and another card pays it.
    let again = app.pay_answer(&buyer).await;
    assert_eq!(again.order_id, answer.order_id);
    assert_eq!(again.client_secret, answer.client_secret);
    app.sim
        .act()
        .confirm_intent(again.intent(), CARD_OK)
        .expect("paid");
    app.settle_webhooks().await;
    assert_eq!(app.order(answer.order_id).await.status, "paid");
    assert_eq!(app.stock_of("stickers").await, (97, 0));
    app.mails_after_sign_up(email, 1).await;
}

#[tokio::test]
async fn three_d_secure_completed_pays_and_failed_leaves_it_payable() {
    let app = TestApp::builder().mail().start().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("three-ds@example.com").await;
    app.fill_cart(&buyer, &[("goods_poster", 1)]).await;
    let answer = app.pay_answer(&buyer).await;
    let status = app
        .sim
        .act()
        .confirm_intent(answer.intent(), CARD_3DS)
        .expect("challenge");
    assert_eq!(status, "requires_action");
    app.sim
        .act()
        .authenticate_intent(answer.intent(), false)
        .expect("failed");
    app.settle_webhooks().await;
    assert_eq!(app.order(answer.order_id).await.status, "pending");
    assert_eq!(
        app.stock_of("poster").await,
        (1, 1),
        "the last one stays held"
    );

    let status = app
        .sim
        .act()
        .confirm_intent(answer.intent(), CARD_3DS)
        .expect("challenge");
    assert_eq!(status, "requires_action");
    let status = app
        .sim
        .act()
        .authenticate_intent(answer.intent(), true)
        .expect("done");
    assert_eq!(status, "succeeded");
    app.settle_webhooks().await;
    assert_eq!(app.order(answer.order_id).await.status, "paid");
    assert_eq!(app.stock_of("poster").await, (0, 0));
}

#[tokio::test]
async fn an_abandoned_intent_is_canceled_and_its_stock_released() {
    let app = TestApp::builder().mail().start().await;
    app.settle_webhooks().await;
    // No webhook reaches the app in this test (not even a late `payment_intent.created`, whose sync
    // would read the paid intent): only the sweep may move these orders.
    app.sim.faults().fail_next_deliveries(1000, None);
    let buyer = app.new_user("abandons@example.com").await;
    app.fill_cart(&buyer, &[("goods_poster", 1)]).await;
    let abandoned = app.pay_answer(&buyer).await;
    let rival = app.new_user("waits@example.com").await;
    app.fill_cart(&rival, &[("goods_hoodie", 1)]).await;
    let paid_late = app.pay_answer(&rival).await;
    // Both reservations run out; one buyer pays at the last moment.
    app.sim
        .act()
        .confirm_intent(paid_late.intent(), CARD_OK)
        .expect("paid");
    sqlx::query("UPDATE orders SET reserved_until = $1")
        .bind(storefront::db::now_unix() - 1)
        .execute(&app.state.db.pool)
        .await
        .expect("expired");
    let swept = app.services.shop.sweep_stale_orders().await.expect("sweep");
    assert_eq!(swept.looked, 2);
    assert_eq!(app.order(abandoned.order_id).await.status, "expired");
    assert_eq!(app.stock_of("poster").await, (1, 0), "released");
    let intent = app
        .stripe_get(&format!("/v1/payment_intents/{}", abandoned.intent()))
        .await;
    assert_eq!(intent["status"], "canceled");
    assert_eq!(intent["cancellation_reason"], "abandoned");
    assert_eq!(
        app.order(paid_late.order_id).await.status,
        "paid",
        "Stripe won the race"
    );
    assert_eq!(app.stock_of("hoodie").await, (9, 0));

    // The buyer comes back: a new order and intent for the same cart.
    app.sim.faults().reset();
    let fresh = app.pay_answer(&buyer).await;
    assert_ne!(fresh.order_id, abandoned.order_id);
    assert_eq!(app.stock_of("poster").await, (1, 1));
}

#[tokio::test]
async fn duplicated_and_shuffled_intent_events_end_in_stripes_state() {
    let app = TestApp::builder().mail().seed_events().start().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("intent-chaos@example.com").await;
    app.sim.faults().duplicate_next_events(300);
    app.sim.faults().shuffle_next_events(300);
    app.fill_cart(&buyer, &[("goods_mug", 2)]).await;
    let paid = app.pay_answer(&buyer).await;
    app.sim
        .act()
        .confirm_intent(paid.intent(), CARD_DECLINED)
        .expect_err("declined");
    app.sim
        .act()
        .confirm_intent(paid.intent(), CARD_3DS)
        .expect("challenge");
    app.sim
        .act()
        .authenticate_intent(paid.intent(), false)
        .expect("failed");
    app.sim
        .act()
        .confirm_intent(paid.intent(), CARD_OK)
        .expect("paid");
    app.post_form(&buyer, "/api/cart_clear", "/cart", &[]).await;
    app.fill_cart(&buyer, &[("goods_hoodie", 1)]).await;
    let refunded = app.pay_answer(&buyer).await;
    app.sim
        .act()
        .confirm_intent(refunded.intent(), CARD_OK)
        .expect("paid");
    app.sim
        .act()
        .refund(refunded.intent(), None)
        .expect("refund");
    app.sim.faults().release_shuffled();
    app.settle_webhooks().await;

    assert_eq!(app.order(paid.order_id).await.status, "paid");
    assert_eq!(app.order(refunded.order_id).await.status, "refunded");
    assert_eq!(app.stock_of("mug").await, (23, 0), "sold exactly once");
    assert_eq!(
        app.stock_of("hoodie").await,
        (10, 0),
        "sold once, returned once"
    );
    assert!(app.sim.deliveries().len() > app.sim.events().len());
    // One receipt per paid order, however often the events came.
    app.mails_after_sign_up("intent-chaos@example.com", 2).await;
}
