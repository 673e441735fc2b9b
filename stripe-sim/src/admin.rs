//! Admin endpoints under `/_sim/` (never `/v1/`): health, webhook delivery log, seed data.
//! They need no API key: the sim only listens on 127.0.0.1.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::Shared;
use crate::form::Params;
use crate::http::ApiError;
use crate::objects;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sim/health", get(health))
        .route("/_sim/webhooks/deliveries", get(deliveries))
        .route("/_sim/webhooks/endpoints", get(endpoints))
}

async fn health(State(sim): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "ok": true, "now": sim.read(|st| st.now) }))
}

/// Delivery attempts, oldest first; `?event=evt_…` or `?endpoint=we_…` filter them.
async fn deliveries(State(sim): State<Arc<Shared>>, q: RawQuery) -> Result<Json<Value>, ApiError> {
    let p = Params::parse(q.0.as_deref().unwrap_or(""))?;
    p.allow(&["event", "endpoint"])?;
    let list = sim.read(|st| {
        st.deliveries
            .iter()
            .filter(|d| p.str("event").is_none_or(|e| d.event_id == e))
            .filter(|d| p.str("endpoint").is_none_or(|e| d.endpoint_id == e))
            .cloned()
            .collect::<Vec<_>>()
    });
    let pending = sim.pending.load(std::sync::atomic::Ordering::SeqCst);
    Ok(Json(json!({ "data": list, "pending": pending })))
}

/// Endpoints with their secrets (the API only shows a secret once, at creation).
async fn endpoints(State(sim): State<Arc<Shared>>) -> Json<Value> {
    let list: Vec<Value> = sim.read(|st| {
        st.endpoints
            .iter()
            .map(|e| {
                let mut v = objects::endpoint(e);
                v["secret"] = json!(e.secret);
                v
            })
            .collect()
    });
    Json(json!({ "data": list }))
}
