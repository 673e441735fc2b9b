//! Delivering events to the app's webhook route as Stripe does: signed with Stripe's scheme, one at a
//! time or in racing bursts.

use super::{TestApp, WEBHOOK_SECRET};
use storefront::db::now_unix;

/// POSTs `payload` to the webhook route, with `signature` as its `Stripe-Signature` header if given.
pub async fn deliver(app: &TestApp, payload: &str, signature: Option<&str>) -> reqwest::Response {
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
pub fn signed(payload: &str) -> String {
    signature_header(payload, WEBHOOK_SECRET, now_unix())
}

/// Stripe's scheme, written here from its documentation: `t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">`.
pub fn signature_header(payload: &str, secret: &str, t: i64) -> String {
    format!("t={t},v1={}", v1_signature(payload, secret, t))
}

pub fn v1_signature(payload: &str, secret: &str, t: i64) -> String {
    use hmac::Mac;
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{t}.{payload}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// An event as Stripe sends it, with `object` as its `data.object`.
pub fn event_json(id: &str, event_type: &str, livemode: bool, object: serde_json::Value) -> String {
    serde_json::json!({
        "id": id, "object": "event", "api_version": "2026-09-30.endive", "created": now_unix(),
        "livemode": livemode, "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null},
        "type": event_type, "data": {"object": object}
    })
    .to_string()
}

/// Delivers `events`, about half of them twice, in an order picked by `seed`, four at once so that
/// duplicates race each other. Every delivery must succeed.
pub async fn deliver_in_bursts(app: &TestApp, events: &[String], seed: u64) {
    let mut rng = Shuffler(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut deliveries: Vec<&String> = events.iter().collect();
    deliveries.extend(events.iter().filter(|_| rng.next().is_multiple_of(2)));
    rng.shuffle(&mut deliveries);
    for burst in deliveries.chunks(4) {
        let sends = burst.iter().map(|payload| {
            let signature = signed(payload);
            async move { deliver(app, payload, Some(&signature)).await }
        });
        for response in futures::future::join_all(sends).await {
            assert!(
                response.status().is_success(),
                "seed {seed}: {}",
                response.status()
            );
        }
    }
}

/// A tiny deterministic PRNG (xorshift), so a failing order can be replayed from its seed.
struct Shuffler(u64);

impl Shuffler {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}
