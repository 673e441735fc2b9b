//! The replay property test, for orders: a recorded history of three orders' events (paid and partly
//! refunded, paid and fully refunded, expired; goods are paid by card only), delivered in six seeded
//! orders with duplicates racing each other, always ends in Stripe's state with each stock move
//! made exactly once.

use crate::helpers::{CARD_OK, TestApp, deliver_in_bursts};
use std::time::Duration;

const SLUGS: [&str; 4] = ["mug", "stickers", "hoodie", "poster"];

#[tokio::test]
async fn any_order_of_order_events_with_duplicates_ends_in_stripes_state() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    // Nothing reaches the app while the history is made: every delivery fails (and is given up).
    app.sim.faults().fail_next_deliveries(10_000, None);
    // One buyer per order: a buyer has one open order at a time, and the reset below makes every
    // order pending again.
    let buyer = app.new_user("replay-shop-1@example.com").await;
    let partly = app.buy(&buyer, &[("goods_hoodie", 2)]).await;
    app.pay(&partly, CARD_OK);
    let buyer = app.new_user("replay-shop-2@example.com").await;
    let fully = app.buy(&buyer, &[("goods_mug", 1)]).await;
    app.pay(&fully, CARD_OK);
    let buyer = app.new_user("replay-shop-3@example.com").await;
    let expired = app.buy(&buyer, &[("goods_poster", 1)]).await;
    let after_checkout = stock(&app).await;
    app.sim
        .act()
        .refund(&intent_of(&app, &partly).await, Some(1500))
        .expect("refund");
    let mug_intent = intent_of(&app, &fully).await;
    app.sim
        .act()
        .refund(&mug_intent, Some(400))
        .expect("refund");
    app.sim.act().refund(&mug_intent, None).expect("refund");
    app.sim
        .advance_clock(Duration::from_secs(32 * 60))
        .expect("clock");
    app.settle_webhooks().await;
    app.sim.faults().reset();
    let events: Vec<String> = app
        .sim
        .events()
        .into_iter()
        .filter(|e| {
            let kind = e["type"].as_str().unwrap_or_default();
            ["checkout.session.", "payment_intent.", "charge.", "refund."]
                .iter()
                .any(|prefix| kind.starts_with(prefix))
        })
        .map(|e| e.to_string())
        .collect();
    assert!(
        events.len() >= 12,
        "a real history: {} events",
        events.len()
    );

    for seed in 1..=6u64 {
        reset_orders(&app, &after_checkout).await;
        deliver_in_bursts(&app, &events, seed).await;
        for (session, status) in [
            (&partly, "partially_refunded"),
            (&fully, "refunded"),
            (&expired, "expired"),
        ] {
            assert_eq!(
                app.order_of_session(session).await.status,
                status,
                "seed {seed}"
            );
        }
        assert_eq!(
            stock(&app).await,
            vec![(25, 0), (100, 0), (8, 0), (1, 0)],
            "seed {seed}: mug sold and returned, poster released, two hoodies sold"
        );
    }
}

async fn intent_of(app: &TestApp, session: &str) -> String {
    app.stripe_get(&format!("/v1/checkout/sessions/{session}"))
        .await["payment_intent"]
        .as_str()
        .expect("a paid session has an intent")
        .to_owned()
}

async fn stock(app: &TestApp) -> Vec<(i64, i64)> {
    let mut levels = Vec::new();
    for slug in SLUGS {
        levels.push(app.stock_of(slug).await);
    }
    levels
}

/// Back to just after checkout: every order pending, its stock held, no event applied.
async fn reset_orders(app: &TestApp, after_checkout: &[(i64, i64)]) {
    for sql in [
        "DELETE FROM stripe_events",
        "UPDATE orders SET status = 'pending', paid_at = NULL, amount_refunded = 0, \
         payment_intent_id = NULL, receipt_url = NULL",
    ] {
        sqlx::query(sql)
            .execute(&app.state.db.pool)
            .await
            .expect(sql);
    }
    for (slug, (on_hand, reserved)) in SLUGS.iter().zip(after_checkout) {
        sqlx::query(
            "UPDATE prices SET stock_on_hand = $1, stock_reserved = $2 WHERE lookup_key = $3",
        )
        .bind(on_hand)
        .bind(reserved)
        .bind(crate::helpers::lookup_key_of(slug))
        .execute(&app.state.db.pool)
        .await
        .expect("stock reset");
    }
}
