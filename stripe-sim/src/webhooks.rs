//! Signed, asynchronous webhook delivery with retries.
//!
//! One dispatcher task receives events in creation order and fans them out to per-endpoint
//! workers, so first attempts reach each endpoint in order (Stripe does not promise order;
//! the shuffle fault breaks it on purpose). A failed attempt is retried on its own task with
//! exponential backoff, so one bad event does not hold back the others.
//!
//! Endpoints are added here too ([`add_endpoint`]): by the API, and by `Sim` at start-up.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::model::{Delivery, Endpoint, Outgoing};
use crate::render;
use crate::shared::{Msg, Shared};
use crate::store::Store;
use crate::time::wall_clock;

#[derive(Debug, Clone)]
struct Job {
    event: String,
    endpoint: String,
}

/// A Stripe-looking signing secret (`whsec_` + 32 hex), unique per endpoint.
fn new_secret(seed: &str) -> String {
    let digest = Sha256::digest(format!("stripe-sim:{seed}:{}", wall_clock()).as_bytes());
    format!("whsec_{}", hex::encode(&digest[..16]))
}

/// Adds an endpoint (for every event type when `events` is empty) and schedules the seed
/// catalog's creation events for it. Returns its id.
pub(crate) fn add_endpoint(
    store: &mut Store,
    url: String,
    secret: Option<String>,
    events: Vec<String>,
) -> String {
    let id = store.id("we");
    let secret = secret.unwrap_or_else(|| new_secret(&id));
    store.endpoints.push(Endpoint {
        id: id.clone(),
        url,
        secret,
        enabled_events: if events.is_empty() {
            vec!["*".to_owned()]
        } else {
            events
        },
        created: store.now,
        description: None,
        metadata: Default::default(),
        enabled: true,
    });
    let seeds: Vec<String> = store.seed_events.clone();
    for event in seeds {
        let wanted = store
            .event(&event)
            .map(|e| e.kind.clone())
            .is_some_and(|k| store.endpoints.iter().any(|e| e.id == id && e.wants(&k)));
        if wanted {
            store.outbox.push(Outgoing::To {
                event,
                endpoint: id.clone(),
            });
        }
    }
    id
}

/// `Stripe-Signature` header value for `payload` at unix time `t`.
fn sign(secret: &str, t: i64, payload: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC accepts keys of any length; this branch cannot be taken.
        Err(_) => return format!("t={t}"),
    };
    mac.update(format!("{t}.{payload}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

pub(crate) async fn dispatcher(shared: Arc<Shared>, mut rx: UnboundedReceiver<Msg>) {
    let mut workers: HashMap<String, UnboundedSender<Job>> = HashMap::new();
    let mut held: Vec<(String, bool)> = Vec::new();
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Flush => release(&shared, &mut workers, &mut held),
            Msg::Out(Outgoing::To { event, endpoint }) => {
                route(&shared, &mut workers, &event, false, Some(&endpoint));
                shared.finish_pending();
            }
            Msg::Out(Outgoing::Event(id)) => {
                let (dup, hold) = shared.faults_mut(|f| f.take_event_faults());
                if hold {
                    held.push((id, dup));
                    if shared.faults_mut(|f| f.shuffle_next == 0) {
                        release(&shared, &mut workers, &mut held);
                    }
                    continue;
                }
                route(&shared, &mut workers, &id, dup, None);
                shared.finish_pending();
            }
        }
    }
}

/// Sends held events newest first: a deterministic reordering that always differs from
/// creation order when two or more events are held.
fn release(
    shared: &Arc<Shared>,
    workers: &mut HashMap<String, UnboundedSender<Job>>,
    held: &mut Vec<(String, bool)>,
) {
    if !held.is_empty() {
        tracing::info!(count = held.len(), "fault: releasing reordered events");
    }
    for (id, dup) in held.drain(..).rev() {
        route(shared, workers, &id, dup, None);
        shared.finish_pending();
    }
}

fn route(
    shared: &Arc<Shared>,
    workers: &mut HashMap<String, UnboundedSender<Job>>,
    event: &str,
    dup: bool,
    only: Option<&str>,
) {
    let targets: Vec<String> = shared.read(|store| {
        let Some(kind) = store.event(event).map(|e| e.kind.clone()) else {
            return Vec::new();
        };
        store
            .endpoints
            .iter()
            .filter(|e| match only {
                Some(id) => e.id == id,
                None => e.wants(&kind),
            })
            .map(|e| e.id.clone())
            .collect()
    });
    let copies = if dup { 2 } else { 1 };
    for endpoint in targets {
        let tx = workers.entry(endpoint.clone()).or_insert_with(|| {
            let (tx, rx) = unbounded_channel();
            tokio::spawn(worker(shared.clone(), rx));
            tx
        });
        for _ in 0..copies {
            shared.add_pending();
            if tx
                .send(Job {
                    event: event.to_owned(),
                    endpoint: endpoint.clone(),
                })
                .is_err()
            {
                shared.finish_pending();
            }
        }
    }
}

async fn worker(shared: Arc<Shared>, mut rx: UnboundedReceiver<Job>) {
    while let Some(job) = rx.recv().await {
        if attempt(&shared, &job, 1).await {
            shared.finish_pending();
            continue;
        }
        tokio::spawn(retry(shared.clone(), job));
    }
}

async fn retry(shared: Arc<Shared>, job: Job) {
    let max = shared.delivery.max_attempts.max(1);
    for n in 2..=max {
        let factor = 2u32.saturating_pow(n - 2);
        let wait = shared
            .delivery
            .retry_base
            .saturating_mul(factor)
            .min(Duration::from_secs(3600));
        if !shared.sleep(wait).await || attempt(&shared, &job, n).await {
            break;
        }
        if n == max {
            tracing::warn!(
                event = %job.event,
                endpoint = %job.endpoint,
                attempts = max,
                "webhook delivery gave up"
            );
        }
    }
    shared.finish_pending();
}

/// What an attempt sends, read under the lock.
struct Target {
    url: String,
    secret: String,
    kind: String,
    payload: String,
}

impl Target {
    /// `None` when the endpoint (or the event) no longer exists.
    fn of(store: &Store, job: &Job) -> Option<Self> {
        let endpoint = store.endpoints.iter().find(|e| e.id == job.endpoint)?;
        let event = store.event(&job.event)?;
        Some(Self {
            url: endpoint.url.clone(),
            secret: endpoint.secret.clone(),
            kind: event.kind.clone(),
            payload: render::event(event).to_string(),
        })
    }
}

/// One delivery attempt; records it and returns whether the endpoint accepted it (2xx).
async fn attempt(shared: &Arc<Shared>, job: &Job, n: u32) -> bool {
    let delay = shared.faults_mut(|f| f.delivery_delay_ms);
    if delay > 0 && !shared.sleep(Duration::from_millis(delay)).await {
        return true;
    }
    // The endpoint was deleted meanwhile: nothing left to deliver to.
    let Some(target) = shared.read(|store| Target::of(store, job)) else {
        return true;
    };
    let injected = shared.faults_mut(|f| f.take_delivery_failure(&job.endpoint));
    let (status, error) = if injected {
        (
            Some(500),
            Some("injected failure (fault switch)".to_owned()),
        )
    } else {
        post(shared, &target).await
    };
    let ok = status.is_some_and(|s| (200..300).contains(&s));
    tracing::info!(
        event = %job.event,
        kind = %target.kind,
        endpoint = %job.endpoint,
        attempt = n,
        ?status,
        ?error,
        ok,
        "webhook delivery"
    );
    let delivery = Delivery {
        event_id: job.event.clone(),
        event_type: target.kind,
        endpoint_id: job.endpoint.clone(),
        url: target.url,
        attempt: n,
        status,
        ok,
        error,
        injected,
        at_ms: wall_clock_ms(),
    };
    shared.with(|store| record(store, delivery));
    ok
}

/// Sends the signed event; returns the HTTP status, or why there is none.
async fn post(shared: &Shared, target: &Target) -> (Option<u16>, Option<String>) {
    // Signed with wall-clock time: receivers check it against their own clock, which does
    // not move when the sim's test clock does.
    let signature = sign(&target.secret, wall_clock(), &target.payload);
    let response = shared
        .http
        .post(&target.url)
        .header("content-type", "application/json; charset=utf-8")
        .header("stripe-signature", signature)
        .header(
            "user-agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks) stripe-sim",
        )
        .body(target.payload.clone())
        .timeout(shared.delivery.timeout)
        .send()
        .await;
    match response {
        Ok(r) => (Some(r.status().as_u16()), None),
        Err(e) if e.is_timeout() => (None, Some("timed out".to_owned())),
        Err(e) => (None, Some(e.to_string())),
    }
}

fn wall_clock_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// Logs the attempt; a success lowers the event's `pending_webhooks`.
fn record(store: &mut Store, delivery: Delivery) {
    if delivery.ok
        && let Some(e) = store.events.iter_mut().find(|e| e.id == delivery.event_id)
    {
        e.pending_webhooks = (e.pending_webhooks - 1).max(0);
    }
    store.deliveries.push(delivery);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_stripe_scheme() {
        // Full verification against async-stripe lives in tests/webhooks.rs.
        let s = sign("whsec_test", 1_700_000_000, "{}");
        assert!(s.starts_with("t=1700000000,v1="));
        assert_eq!(s.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(sign("whsec_other", 1_700_000_000, "{}"), s);
    }
}
