//! Fault injection for tests: duplicate, reorder and delay webhook deliveries, fail the first
//! N attempts, and answer API calls with 500/429 or extra latency. Switches live in memory and
//! are reachable under `/_sim/faults/…` and through `Sim` methods.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

use crate::Shared;
use crate::http::{ApiError, admin_params};

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Faults {
    /// The next N events are delivered twice (to every endpoint).
    pub duplicate_next: usize,
    /// The next N events are held back and then delivered in reverse order.
    pub shuffle_next: usize,
    /// How many events the current shuffle batch holds (for flushing).
    pub shuffle_batch: usize,
    /// Added before every delivery attempt.
    pub delivery_delay_ms: u64,
    /// Fail the next N delivery attempts to any endpoint (as if it answered 500).
    pub fail_deliveries: usize,
    /// Same, per endpoint id.
    pub fail_deliveries_for: HashMap<String, usize>,
    /// Answer the next N API calls with `api_error_status`.
    pub api_errors: usize,
    pub api_error_status: u16,
    /// Added to every API call.
    pub api_latency_ms: u64,
}

impl Faults {
    /// For the API middleware: the latency to add, and a status to answer with instead.
    pub fn take_api_fault(&mut self) -> (Duration, Option<StatusCode>) {
        let latency = Duration::from_millis(self.api_latency_ms);
        if self.api_errors == 0 {
            return (latency, None);
        }
        self.api_errors -= 1;
        let status = StatusCode::from_u16(self.api_error_status)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (latency, Some(status))
    }

    /// Whether the next delivery attempt to `endpoint` must fail.
    pub fn take_delivery_failure(&mut self, endpoint: &str) -> bool {
        if let Some(n) = self.fail_deliveries_for.get_mut(endpoint)
            && *n > 0
        {
            *n -= 1;
            return true;
        }
        if self.fail_deliveries > 0 {
            self.fail_deliveries -= 1;
            return true;
        }
        false
    }

    /// For the dispatcher: (deliver twice, hold for reordering).
    pub fn take_event_faults(&mut self) -> (bool, bool) {
        let dup = self.duplicate_next > 0;
        if dup {
            self.duplicate_next -= 1;
        }
        let hold = self.shuffle_next > 0;
        if hold {
            self.shuffle_next -= 1;
        }
        (dup, hold)
    }
}

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sim/faults", get(show))
        .route("/_sim/faults/duplicate", post(duplicate))
        .route("/_sim/faults/shuffle", post(shuffle))
        .route("/_sim/faults/delay", post(delay))
        .route("/_sim/faults/fail_deliveries", post(fail_deliveries))
        .route("/_sim/faults/api_errors", post(api_errors))
        .route("/_sim/faults/latency", post(latency))
        .route("/_sim/faults/shuffle/release", post(release))
        .route("/_sim/faults/reset", post(reset))
}

fn count(p: &crate::form::Params, key: &str) -> Result<u64, ApiError> {
    let v = p.i64(key)?.ok_or_else(|| ApiError::missing(key))?;
    u64::try_from(v).map_err(|_| ApiError::invalid(key, format!("{key} must not be negative")))
}

fn usize_of(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

type AdminResult = Result<Json<Value>, ApiError>;

fn current(sim: &Shared) -> AdminResult {
    let f = sim.faults_mut(|f| f.clone());
    serde_json::to_value(f)
        .map(Json)
        .map_err(|_| ApiError::server(StatusCode::INTERNAL_SERVER_ERROR))
}

async fn show(State(sim): State<Arc<Shared>>) -> AdminResult {
    current(&sim)
}

async fn duplicate(
    State(sim): State<Arc<Shared>>,
    h: HeaderMap,
    q: RawQuery,
    b: Bytes,
) -> AdminResult {
    let n = usize_of(count(&admin_params(&h, &b, q.0.as_deref())?, "count")?);
    sim.faults_mut(|f| f.duplicate_next = n);
    current(&sim)
}

async fn shuffle(
    State(sim): State<Arc<Shared>>,
    h: HeaderMap,
    q: RawQuery,
    b: Bytes,
) -> AdminResult {
    let n = usize_of(count(&admin_params(&h, &b, q.0.as_deref())?, "count")?);
    sim.faults_mut(|f| {
        f.shuffle_next = n;
        f.shuffle_batch = n;
    });
    current(&sim)
}

async fn delay(State(sim): State<Arc<Shared>>, h: HeaderMap, q: RawQuery, b: Bytes) -> AdminResult {
    let ms = count(&admin_params(&h, &b, q.0.as_deref())?, "ms")?;
    sim.faults_mut(|f| f.delivery_delay_ms = ms);
    current(&sim)
}

async fn fail_deliveries(
    State(sim): State<Arc<Shared>>,
    h: HeaderMap,
    q: RawQuery,
    b: Bytes,
) -> AdminResult {
    let p = admin_params(&h, &b, q.0.as_deref())?;
    let n = usize_of(count(&p, "count")?);
    let endpoint = p.str("endpoint").map(str::to_owned);
    sim.faults_mut(|f| match endpoint {
        Some(e) => {
            f.fail_deliveries_for.insert(e, n);
        }
        None => f.fail_deliveries = n,
    });
    current(&sim)
}

async fn api_errors(
    State(sim): State<Arc<Shared>>,
    h: HeaderMap,
    q: RawQuery,
    b: Bytes,
) -> AdminResult {
    let p = admin_params(&h, &b, q.0.as_deref())?;
    let n = usize_of(count(&p, "count")?);
    let status = p.i64("status")?.unwrap_or(500);
    if status != 500 && status != 429 && !(502..=504).contains(&status) {
        return Err(ApiError::invalid(
            "status",
            "status must be 500, 502-504 or 429".to_owned(),
        ));
    }
    sim.faults_mut(|f| {
        f.api_errors = n;
        f.api_error_status = u16::try_from(status).unwrap_or(500);
    });
    current(&sim)
}

async fn latency(
    State(sim): State<Arc<Shared>>,
    h: HeaderMap,
    q: RawQuery,
    b: Bytes,
) -> AdminResult {
    let ms = count(&admin_params(&h, &b, q.0.as_deref())?, "ms")?;
    sim.faults_mut(|f| f.api_latency_ms = ms);
    current(&sim)
}

async fn reset(State(sim): State<Arc<Shared>>) -> AdminResult {
    sim.reset_faults();
    current(&sim)
}

async fn release(State(sim): State<Arc<Shared>>) -> AdminResult {
    sim.flush_shuffled();
    current(&sim)
}
