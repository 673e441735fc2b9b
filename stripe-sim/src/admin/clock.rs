//! `/_sim/clock`: read the sim clock, and advance it (running everything due on the way).

use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::clock::advance_to;
use crate::error::ApiError;
use crate::http::AdminParams;
use crate::shared::Shared;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sim/clock", get(now))
        .route("/_sim/clock/advance", post(advance))
}

async fn now(State(sim): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "now": sim.read(|store| store.now) }))
}

/// `seconds=…` (relative) or `to=<unix>` (absolute), as a form, JSON or query string.
async fn advance(
    State(sim): State<Arc<Shared>>,
    AdminParams(params): AdminParams,
) -> Result<Json<Value>, ApiError> {
    params.allow(&["seconds", "to"])?;
    let (seconds, to) = (params.i64("seconds")?, params.i64("to")?);
    let now = sim.with(|store| {
        let target = match (seconds, to) {
            (Some(s), None) if s >= 0 => store.now + s,
            (None, Some(t)) => t,
            (Some(_), None) => {
                return Err(ApiError::invalid(
                    "seconds",
                    "seconds must not be negative".to_owned(),
                ));
            }
            _ => return Err(ApiError::missing("seconds")),
        };
        advance_to(store, target)?;
        Ok(store.now)
    })?;
    Ok(Json(json!({ "now": now })))
}
