//! `sync_order` in the shared sync envelope (docs/RELIABILITY.md): a duplicate order event costs no
//! Stripe call, a burst of events for one order shares its reads, a stalled Stripe ends the sync at
//! the deadline (503, nothing recorded, Stripe retries), and fulfilment is independent of refunds.

use crate::helpers::{CARD_OK, TestApp, deliver, event_json, signed, unique_email};
use std::time::{Duration, Instant};

/// A paid hosted-Checkout order of one mug: (order id, its `storefront_order` tag, its intent).
async fn paid_order(app: &TestApp) -> (i64, String, String) {
    app.settle_webhooks().await;
    let buyer = app.new_user(&unique_email("syncs")).await;
    let session = app.buy(&buyer, &[("goods_mug", 1)]).await;
    app.pay(&session, CARD_OK);
    app.settle_webhooks().await;
    let order = app.order_of_session(&session).await;
    assert_eq!(order.status, "paid");
    let installation = app
        .scalar_text("SELECT install_id FROM installation WHERE singleton = 1")
        .await;
    let intent = order.payment_intent_id.expect("paid through an intent");
    (order.id, format!("{installation}:{}", order.id), intent)
}

/// A signed `checkout.session.completed`-like event naming the order by its tag.
fn order_event(id: &str, tag: &str) -> String {
    event_json(
        id,
        "checkout.session.completed",
        false,
        serde_json::json!({"object": "checkout.session", "id": "cs_test_sync_envelope",
            "metadata": {"storefront_order": tag}}),
    )
}

#[tokio::test]
async fn a_duplicate_order_event_is_answered_without_a_stripe_call() {
    let app = TestApp::spawn().await;
    let (_, tag, _) = paid_order(&app).await;
    let event = order_event("evt_order_dup", &tag);
    let first = deliver(&app, &event, Some(&signed(&event))).await;
    assert_eq!(first.text().await.expect("body"), "applied");
    let before = app.sim.api_requests();
    let again = deliver(&app, &event, Some(&signed(&event))).await;
    assert_eq!(again.text().await.expect("body"), "duplicate");
    assert_eq!(app.sim.api_requests(), before, "a redelivery reads nothing");
}

#[tokio::test]
async fn a_burst_of_events_for_one_order_shares_its_stripe_reads() {
    const EVENTS: usize = 20;
    let app = TestApp::spawn().await;
    let (_, tag, _) = paid_order(&app).await;
    let events: Vec<String> = (0..EVENTS)
        .map(|n| order_event(&format!("evt_order_burst_{n}"), &tag))
        .collect();
    let before = app.sim.api_requests();
    let answers = futures::future::join_all(events.iter().map(|event| async {
        let response = deliver(&app, event, Some(&signed(event))).await;
        response.text().await.expect("body")
    }))
    .await;
    let calls = app.sim.api_requests() - before;
    eprintln!("order burst: {EVENTS} events, {calls} Stripe calls (2 per read)");
    assert!(answers.iter().all(|a| a == "applied"), "{answers:?}");
    // One read is two calls (the session and its intent). Without coalescing this is 2 per event.
    assert!(
        calls <= 8,
        "{calls} Stripe calls for {EVENTS} events of one order"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM stripe_events WHERE id LIKE 'evt_order_burst_%'")
            .await,
        EVENTS as i64,
        "every event recorded once"
    );
}

#[tokio::test]
async fn an_order_sync_against_a_stalled_stripe_ends_at_the_deadline() {
    let app = TestApp::spawn_with(&[("STRIPE_SYNC_DEADLINE_SECS", "2")]).await;
    let (_, tag, _) = paid_order(&app).await;
    // Longer than the 30 s request timeout: without the sync's own deadline the request would end
    // there, with the timeout's empty 503.
    app.sim.faults().set_api_latency(Duration::from_secs(40));
    let event = order_event("evt_order_stalled", &tag);
    let started = Instant::now();
    let response = deliver(&app, &event, Some(&signed(&event))).await;
    let status = response.status().as_u16();
    let body = response.text().await.expect("body");
    app.sim.faults().set_api_latency(Duration::ZERO);
    eprintln!(
        "order sync with Stripe stalled: {status} after {:?}",
        started.elapsed()
    );
    assert_eq!(status, 503, "Stripe delivers again");
    assert!(
        body.contains("payment provider"),
        "the sync's own error: {body:?}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM stripe_events WHERE id = 'evt_order_stalled'")
            .await,
        0,
        "nothing recorded, so the redelivery is applied"
    );
}

/// Fulfilment is its own column: an order marked shipped is still on the payment path a refund
/// walks, and a full refund still returns the stock (the console will ship orders).
#[tokio::test]
async fn a_shipped_order_is_refunded_and_restocked_like_any_other() {
    let app = TestApp::spawn().await;
    let (order_id, _, intent) = paid_order(&app).await;
    let (on_hand, _) = app.stock_of("mug").await;
    sqlx::query("UPDATE orders SET fulfilment = 'shipped' WHERE id = $1")
        .bind(order_id)
        .execute(&app.state.db.pool)
        .await
        .expect("shipped");
    app.sim.act().refund(&intent, None).expect("refunded");
    app.settle_webhooks().await;
    assert_eq!(app.order(order_id).await.status, "refunded");
    assert_eq!(
        app.stock_of("mug").await,
        (on_hand + 1, 0),
        "back on the shelf"
    );
    let fulfilment = app
        .scalar_text(&format!(
            "SELECT fulfilment FROM orders WHERE id = {order_id}"
        ))
        .await;
    assert_eq!(fulfilment, "shipped", "refunds leave fulfilment alone");
}
