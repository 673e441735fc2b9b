//! Signed, asynchronous webhook delivery with retries.
//!
//! One dispatcher task receives events in creation order and fans them out to per-endpoint
//! workers, so first attempts reach each endpoint in order (Stripe does not promise order;
//! the shuffle fault breaks it on purpose). A failed attempt is retried on its own task with
//! exponential backoff, so one bad event does not hold back the others.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::Shared;
use crate::objects;
use crate::state::{Delivery, Outgoing};

/// Messages for the dispatcher.
#[derive(Debug)]
pub enum Msg {
    Out(Outgoing),
    /// Release events held by the shuffle fault.
    Flush,
}

#[derive(Debug, Clone)]
struct Job {
    event: String,
    endpoint: String,
}

/// `Stripe-Signature` header value for `payload` at unix time `t`.
pub fn sign(secret: &str, t: i64, payload: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC accepts keys of any length; this branch cannot be taken.
        Err(_) => return format!("t={t}"),
    };
    mac.update(format!("{t}.{payload}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

pub async fn dispatcher(shared: Arc<Shared>, mut rx: UnboundedReceiver<Msg>) {
    let mut workers: HashMap<String, UnboundedSender<Job>> = HashMap::new();
    let mut held: Vec<(String, bool)> = Vec::new();
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Flush => release(&shared, &mut workers, &mut held),
            Msg::Out(Outgoing::To { event, endpoint }) => {
                route(&shared, &mut workers, &event, false, Some(&endpoint));
                shared.pending.fetch_sub(1, Ordering::SeqCst);
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
                shared.pending.fetch_sub(1, Ordering::SeqCst);
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
        shared.pending.fetch_sub(1, Ordering::SeqCst);
    }
}

fn route(
    shared: &Arc<Shared>,
    workers: &mut HashMap<String, UnboundedSender<Job>>,
    event: &str,
    dup: bool,
    only: Option<&str>,
) {
    let targets: Vec<String> = shared.read(|st| {
        let Some(kind) = st.event(event).map(|e| e.kind.clone()) else {
            return Vec::new();
        };
        st.endpoints
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
            shared.pending.fetch_add(1, Ordering::SeqCst);
            if tx
                .send(Job {
                    event: event.to_owned(),
                    endpoint: endpoint.clone(),
                })
                .is_err()
            {
                shared.pending.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }
}

async fn worker(shared: Arc<Shared>, mut rx: UnboundedReceiver<Job>) {
    while let Some(job) = rx.recv().await {
        if attempt(&shared, &job, 1).await {
            shared.pending.fetch_sub(1, Ordering::SeqCst);
            continue;
        }
        tokio::spawn(retry(shared.clone(), job));
    }
}

async fn retry(shared: Arc<Shared>, job: Job) {
    let max = shared.config.webhook_max_attempts.max(1);
    for n in 2..=max {
        let factor = 2u32.saturating_pow(n - 2);
        let wait = shared
            .config
            .webhook_retry_base
            .saturating_mul(factor)
            .min(Duration::from_secs(3600));
        if !shared.sleep(wait).await || attempt(&shared, &job, n).await {
            break;
        }
        if n == max {
            tracing::warn!(event = %job.event, endpoint = %job.endpoint, attempts = max, "webhook delivery gave up");
        }
    }
    shared.pending.fetch_sub(1, Ordering::SeqCst);
}

/// One delivery attempt; records it and returns whether the endpoint accepted it (2xx).
async fn attempt(shared: &Arc<Shared>, job: &Job, n: u32) -> bool {
    let delay = shared.faults_mut(|f| f.delivery_delay_ms);
    if delay > 0 && !shared.sleep(Duration::from_millis(delay)).await {
        return true;
    }
    let info = shared.read(|st| {
        let ep = st.endpoints.iter().find(|e| e.id == job.endpoint)?;
        let ev = st.event(&job.event)?;
        Some((
            ep.url.clone(),
            ep.secret.clone(),
            ev.kind.clone(),
            objects::event(ev),
        ))
    });
    // The endpoint was deleted meanwhile: nothing left to deliver to.
    let Some((url, secret, kind, body)) = info else {
        return true;
    };
    let payload = body.to_string();
    let injected = shared.faults_mut(|f| f.take_delivery_failure(&job.endpoint));
    let (status, error) = if injected {
        (
            Some(500),
            Some("injected failure (fault switch)".to_owned()),
        )
    } else {
        // Signed with wall-clock time: receivers check it against their own clock, which does
        // not move when the sim's test clock does.
        let sig = sign(&secret, crate::time::wall_clock(), &payload);
        let resp = shared
            .http
            .post(&url)
            .header("content-type", "application/json; charset=utf-8")
            .header("stripe-signature", sig)
            .header(
                "user-agent",
                "Stripe/1.0 (+https://stripe.com/docs/webhooks) stripe-sim",
            )
            .body(payload)
            .timeout(shared.config.webhook_timeout)
            .send()
            .await;
        match resp {
            Ok(r) => (Some(r.status().as_u16()), None),
            Err(e) if e.is_timeout() => (None, Some("timed out".to_owned())),
            Err(e) => (None, Some(e.to_string())),
        }
    };
    let ok = status.is_some_and(|s| (200..300).contains(&s));
    tracing::info!(event = %job.event, %kind, endpoint = %job.endpoint, attempt = n, ?status, ?error, ok, "webhook delivery");
    let at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    shared.with(|st| {
        st.deliveries.push(Delivery {
            event_id: job.event.clone(),
            event_type: kind,
            endpoint_id: job.endpoint.clone(),
            url,
            attempt: n,
            status,
            ok,
            error,
            injected,
            at_ms,
        });
        if ok && let Some(e) = st.events.iter_mut().find(|e| e.id == job.event) {
            e.pending_webhooks = (e.pending_webhooks - 1).max(0);
        }
    });
    ok
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
