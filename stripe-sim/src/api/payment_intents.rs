//! PaymentIntents (retrieve, list). They are created by payment-mode Checkout; create and
//! confirm over the API are not modelled yet.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;

use super::{list_page, list_query, retrieve_one};
use crate::http::ApiResult;
use crate::render::payments as render;
use crate::shared::Shared;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/payment_intents", get(list))
        .route("/payment_intents/{id}", get(retrieve))
}

async fn retrieve(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &query, "payment_intent", &id, "intent", |store| {
        store.payment_intent(&id).map(render::payment_intent)
    })
}

async fn list(State(sim): State<Arc<Shared>>, query: RawQuery) -> ApiResult {
    let params = list_query(&query, &["customer"])?;
    let customer = params.str("customer");
    list_page(&sim, &params, "/v1/payment_intents", |store| {
        Ok(store
            .payment_intents
            .iter()
            .rev()
            .filter(|p| customer.is_none_or(|c| p.customer.as_deref() == Some(c)))
            .map(render::payment_intent)
            .collect())
    })
}
