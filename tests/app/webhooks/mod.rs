//! The webhook route: verification, exactly-once application, any order, failures that Stripe retries.
//! Here: delivering hand-made or recorded events to the app, as Stripe does.

mod catalog_and_strangers;
mod ordering;
mod verification;

use crate::helpers::{TestApp, WEBHOOK_SECRET};
use storefront::db::now_unix;
use stripe_webhook::Webhook;

async fn deliver(app: &TestApp, payload: &str, signature: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(app.url("/api/webhooks/stripe"))
        .header("content-type", "application/json")
        .body(payload.to_owned());
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    request.send().await.expect("delivery")
}

/// A `Stripe-Signature` header for `payload`, signed now with the app's secret.
fn signed(payload: &str) -> String {
    Webhook::generate_test_header(payload, WEBHOOK_SECRET, Some(now_unix()))
}

fn event_json(id: &str, event_type: &str, livemode: bool, object: serde_json::Value) -> String {
    serde_json::json!({
        "id": id, "object": "event", "api_version": "2026-09-30.endive", "created": now_unix(),
        "livemode": livemode, "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null},
        "type": event_type, "data": {"object": object}
    })
    .to_string()
}

async fn events_recorded(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM stripe_events").await
}

/// How many times the event `id` is recorded as processed (0 or 1).
async fn times_recorded(app: &TestApp, id: &str) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM stripe_events WHERE id = $1")
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count query")
}
