//! The test clock. All object timestamps come from `State::now`; advancing it runs whatever
//! falls due in between, in time order: period ends (renewal, trial end, scheduled
//! cancellation), dunning retries and Checkout Session expiry.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::Shared;
use crate::billing::{checkout, payments, subscriptions};
use crate::http::{ApiError, admin_params};
use crate::state::{InvoiceStatus, SessionStatus, State as SimState};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Due {
    SessionExpiry(String),
    PeriodEnd(String),
    Retry(String),
}

/// The earliest thing due at or before `target`.
fn next_due(st: &SimState, target: i64) -> Option<(i64, Due)> {
    let sessions = st
        .sessions
        .iter()
        .filter(|s| s.status == SessionStatus::Open)
        .map(|s| (s.expires_at, Due::SessionExpiry(s.id.clone())));
    let periods = st
        .subscriptions
        .iter()
        .filter(|s| s.status.is_live())
        .map(|s| {
            let end = s
                .cancel_at
                .map_or(s.current_period_end, |c| c.min(s.current_period_end));
            (end, Due::PeriodEnd(s.id.clone()))
        });
    let retries = st
        .invoices
        .iter()
        .filter(|i| i.status == InvoiceStatus::Open && i.first_failed_at.is_some())
        .filter_map(|i| {
            i.next_payment_attempt
                .map(|t| (t, Due::Retry(i.id.clone())))
        });
    sessions
        .chain(periods)
        .chain(retries)
        .filter(|(t, _)| *t <= target)
        .min_by_key(|(t, _)| *t)
}

/// Moves the clock to `target`, running everything due on the way.
pub fn advance_to(st: &mut SimState, target: i64) -> Result<(), ApiError> {
    if target < st.now {
        return Err(ApiError::invalid(
            "to",
            "The clock cannot move backwards.".to_owned(),
        ));
    }
    // Each step changes state so the same item is not due again; the bound is a safety net.
    for _ in 0..100_000 {
        let Some((t, due)) = next_due(st, target) else {
            break;
        };
        st.now = st.now.max(t);
        match due {
            Due::SessionExpiry(id) => {
                let _ = checkout::expire(st, &id);
            }
            Due::PeriodEnd(id) => subscriptions::period_ended(st, &id),
            Due::Retry(id) => payments::retry_invoice(st, &id),
        }
    }
    st.now = target;
    Ok(())
}

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sim/clock", get(now))
        .route("/_sim/clock/advance", post(advance))
}

async fn now(State(sim): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "now": sim.read(|st| st.now) }))
}

/// `seconds=…` (relative) or `to=<unix>` (absolute), as a form, JSON or query string.
async fn advance(
    State(sim): State<Arc<Shared>>,
    h: HeaderMap,
    q: RawQuery,
    b: Bytes,
) -> Result<Json<Value>, ApiError> {
    let p = admin_params(&h, &b, q.0.as_deref())?;
    p.allow(&["seconds", "to"])?;
    let (seconds, to) = (p.i64("seconds")?, p.i64("to")?);
    let now = sim.with(|st| {
        let target = match (seconds, to) {
            (Some(s), None) if s >= 0 => st.now + s,
            (None, Some(t)) => t,
            (Some(_), None) => {
                return Err(ApiError::invalid(
                    "seconds",
                    "seconds must not be negative".to_owned(),
                ));
            }
            _ => return Err(ApiError::missing("seconds")),
        };
        advance_to(st, target)?;
        Ok(st.now)
    })?;
    Ok(Json(json!({ "now": now })))
}
