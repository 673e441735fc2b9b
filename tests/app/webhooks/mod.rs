//! The webhook route: verification, exactly-once application, any order, failures that Stripe retries.
//! Here: delivering hand-made or recorded events to the app, as Stripe does.

mod catalog_and_strangers;
pub(crate) mod ordering;
mod storm;
mod verification;

use crate::helpers::{TestApp, WEBHOOK_SECRET};
use storefront::db::now_unix;

pub(crate) async fn deliver(
    app: &TestApp,
    payload: &str,
    signature: Option<&str>,
) -> reqwest::Response {
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
pub(crate) fn signed(payload: &str) -> String {
    signature_header(payload, WEBHOOK_SECRET, now_unix())
}

/// Stripe's scheme, written here from its documentation: `t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">`.
fn signature_header(payload: &str, secret: &str, t: i64) -> String {
    format!("t={t},v1={}", v1_signature(payload, secret, t))
}

fn v1_signature(payload: &str, secret: &str, t: i64) -> String {
    use hmac::Mac;
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{t}.{payload}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub(crate) fn event_json(
    id: &str,
    event_type: &str,
    livemode: bool,
    object: serde_json::Value,
) -> String {
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
