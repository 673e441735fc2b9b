//! Charges (retrieve, list, their refunds). They are created by payment-mode Checkout.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;

use super::{list_page, list_query, retrieve_one};
use crate::error::ApiError;
use crate::http::ApiResult;
use crate::render::payments as render;
use crate::shared::Shared;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/charges", get(list))
        .route("/charges/{id}", get(retrieve))
        .route("/charges/{id}/refunds", get(list_refunds))
}

async fn retrieve(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &query, "charge", &id, "id", |store| {
        store.charge(&id).map(|c| render::charge(store, c))
    })
}

async fn list(State(sim): State<Arc<Shared>>, query: RawQuery) -> ApiResult {
    let params = list_query(&query, &["customer", "payment_intent"])?;
    let filter = |key: &str, value: Option<&str>| params.str(key).is_none_or(|v| value == Some(v));
    list_page(&sim, &params, "/v1/charges", |store| {
        Ok(store
            .charges
            .iter()
            .rev()
            .filter(|c| filter("customer", c.customer.as_deref()))
            .filter(|c| filter("payment_intent", Some(&c.payment_intent)))
            .map(|c| render::charge(store, c))
            .collect())
    })
}

/// The charge's refunds, newest first (the `refunds` list on the charge links here).
async fn list_refunds(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    let params = list_query(&query, &[])?;
    let url = format!("/v1/charges/{id}/refunds");
    list_page(&sim, &params, &url, |store| {
        let charge = store
            .charge(&id)
            .ok_or_else(|| ApiError::missing_resource("charge", &id, "charge"))?;
        Ok(charge
            .refunds
            .iter()
            .rev()
            .filter_map(|r| store.refund(r))
            .map(|r| render::refund(store, r))
            .collect())
    })
}
