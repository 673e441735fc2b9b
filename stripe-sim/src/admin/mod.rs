//! Admin endpoints under `/_sim/` (never `/v1/`): health, the webhook delivery log and
//! endpoints here, the test clock (`clock`) and the fault switches (`faults`).
//! They need no API key: the sim only listens on 127.0.0.1.

mod clock;
mod faults;

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::form::Params;
use crate::render;
use crate::shared::Shared;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sim/health", get(health))
        .route("/_sim/webhooks/deliveries", get(deliveries))
        .route("/_sim/webhooks/endpoints", get(endpoints))
        .merge(clock::routes())
        .merge(faults::routes())
}

async fn health(State(sim): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "ok": true, "now": sim.read(|store| store.now) }))
}

/// Delivery attempts, oldest first; `?event=evt_…` or `?endpoint=we_…` filter them.
async fn deliveries(
    State(sim): State<Arc<Shared>>,
    query: RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = Params::parse(query.0.as_deref().unwrap_or(""))?;
    params.allow(&["event", "endpoint"])?;
    let list = sim.read(|store| {
        store
            .deliveries
            .iter()
            .filter(|d| params.str("event").is_none_or(|e| d.event_id == e))
            .filter(|d| params.str("endpoint").is_none_or(|e| d.endpoint_id == e))
            .cloned()
            .collect::<Vec<_>>()
    });
    let pending = sim.pending();
    Ok(Json(json!({ "data": list, "pending": pending })))
}

/// Endpoints with their secrets (the API only shows a secret once, at creation).
async fn endpoints(State(sim): State<Arc<Shared>>) -> Json<Value> {
    let list: Vec<Value> = sim.read(|store| {
        store
            .endpoints
            .iter()
            .map(|e| {
                let mut v = render::endpoint(e);
                v["secret"] = json!(e.secret);
                v
            })
            .collect()
    });
    Json(json!({ "data": list }))
}
