//! Refunds: create (of a succeeded PaymentIntent or Charge), retrieve, list.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;

use super::{body_params, list_page, list_query, one, retrieve_one};
use crate::billing::refunds::{NewRefund, create as create_refund};
use crate::http::ApiResult;
use crate::render::payments as render;
use crate::shared::Shared;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/refunds", get(list).post(create))
        .route("/refunds/{id}", get(retrieve))
}

async fn create(State(sim): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&[
        "payment_intent",
        "charge",
        "amount",
        "reason",
        "metadata",
        "expand",
    ])?;
    let new = NewRefund {
        payment_intent: params.str("payment_intent").map(str::to_owned),
        charge: params.str("charge").map(str::to_owned),
        amount: params.i64("amount")?,
        reason: params.str("reason").map(str::to_owned),
        metadata: params.metadata("metadata")?.unwrap_or_default(),
    };
    sim.with(|store| {
        let id = create_refund(store, new)?;
        let object = store
            .refund(&id)
            .map(|r| render::refund(store, r))
            .unwrap_or_default();
        one(store, &params, object)
    })
}

async fn retrieve(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &query, "refund", &id, "id", |store| {
        store.refund(&id).map(|r| render::refund(store, r))
    })
}

async fn list(State(sim): State<Arc<Shared>>, query: RawQuery) -> ApiResult {
    let params = list_query(&query, &["charge", "payment_intent"])?;
    let filter = |key: &str, value: &str| params.str(key).is_none_or(|v| value == v);
    list_page(&sim, &params, "/v1/refunds", |store| {
        Ok(store
            .refunds
            .iter()
            .rev()
            .filter(|r| filter("charge", &r.charge))
            .filter(|r| filter("payment_intent", &r.payment_intent))
            .map(|r| render::refund(store, r))
            .collect())
    })
}
