//! `/_sim/faults/…`: the fault switches over HTTP (form, JSON or query parameters).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

use crate::error::ApiError;
use crate::faults::DEFAULT_RETRY_AFTER;
use crate::form::Params;
use crate::http::AdminParams;
use crate::shared::Shared;

pub(super) fn routes() -> Router<Arc<Shared>> {
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

fn count(params: &Params, key: &str) -> Result<u64, ApiError> {
    let v = params.i64(key)?.ok_or_else(|| ApiError::missing(key))?;
    u64::try_from(v).map_err(|_| ApiError::invalid(key, format!("{key} must not be negative")))
}

/// An optional non-negative number, `default` when absent.
fn count_or(params: &Params, key: &str, default: u64) -> Result<u64, ApiError> {
    if params.str(key).is_none() {
        return Ok(default);
    }
    count(params, key)
}

fn usize_of(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

type AdminResult = Result<Json<Value>, ApiError>;

fn current(sim: &Shared) -> AdminResult {
    sim.faults_mut(|f| serde_json::to_value(&*f))
        .map(Json)
        .map_err(|_| ApiError::server(StatusCode::INTERNAL_SERVER_ERROR))
}

async fn show(State(sim): State<Arc<Shared>>) -> AdminResult {
    current(&sim)
}

async fn duplicate(
    State(sim): State<Arc<Shared>>,
    AdminParams(params): AdminParams,
) -> AdminResult {
    let n = usize_of(count(&params, "count")?);
    sim.faults_mut(|f| f.duplicate_next = n);
    current(&sim)
}

async fn shuffle(State(sim): State<Arc<Shared>>, AdminParams(params): AdminParams) -> AdminResult {
    let n = usize_of(count(&params, "count")?);
    sim.faults_mut(|f| {
        f.shuffle_next = n;
        f.shuffle_batch = n;
    });
    current(&sim)
}

async fn delay(State(sim): State<Arc<Shared>>, AdminParams(params): AdminParams) -> AdminResult {
    let ms = count(&params, "ms")?;
    sim.faults_mut(|f| f.delivery_delay_ms = ms);
    current(&sim)
}

async fn fail_deliveries(
    State(sim): State<Arc<Shared>>,
    AdminParams(params): AdminParams,
) -> AdminResult {
    let n = usize_of(count(&params, "count")?);
    let endpoint = params.str("endpoint").map(str::to_owned);
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
    AdminParams(params): AdminParams,
) -> AdminResult {
    let n = usize_of(count(&params, "count")?);
    let status = params.i64("status")?.unwrap_or(500);
    if status != 500 && status != 429 && !(502..=504).contains(&status) {
        return Err(ApiError::invalid(
            "status",
            "status must be 500, 502-504 or 429".to_owned(),
        ));
    }
    // Each call sets it, so a test that wants the default does not inherit an earlier value.
    let retry_after = count_or(&params, "retry_after", DEFAULT_RETRY_AFTER)?;
    sim.faults_mut(|f| {
        f.api_errors = n;
        f.api_error_status = u16::try_from(status).unwrap_or(500);
        f.api_retry_after = retry_after;
    });
    current(&sim)
}

async fn latency(State(sim): State<Arc<Shared>>, AdminParams(params): AdminParams) -> AdminResult {
    let ms = count(&params, "ms")?;
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
