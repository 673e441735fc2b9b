//! PaymentMethods: create a card (secret or publishable key, as Stripe.js does) and retrieve.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};

use super::{body_params, one, retrieve_one};
use crate::billing::cards::create_card_method;
use crate::error::ApiError;
use crate::form::Params;
use crate::http::ApiResult;
use crate::render::payment_methods as render;
use crate::shared::Shared;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/payment_methods", post(create))
        .route("/payment_methods/{id}", get(retrieve))
}

/// `card[number]`, `card[exp_month]`, `card[exp_year]`, checked for presence and form; the
/// card checks themselves (Luhn, expiry) answer 402 card errors from billing.
fn card_input(params: &Params) -> Result<(String, (i64, i64)), ApiError> {
    match params.str("type") {
        None | Some("") => return Err(ApiError::missing("type")),
        Some("card") => {}
        Some(other) => {
            return Err(ApiError::invalid(
                "type",
                format!("Invalid type: {other}. stripe-sim creates card PaymentMethods only."),
            ));
        }
    }
    let card = params
        .child("card")?
        .ok_or_else(|| ApiError::missing("card"))?;
    card.allow(&["number", "exp_month", "exp_year", "cvc"])?;
    let number = card.req_str("number")?.to_owned();
    let month = card
        .i64("exp_month")?
        .ok_or_else(|| ApiError::missing("card[exp_month]"))?;
    let year = card
        .i64("exp_year")?
        .ok_or_else(|| ApiError::missing("card[exp_year]"))?;
    if let Some(cvc) = card.str("cvc")
        && (!(3..=4).contains(&cvc.len()) || !cvc.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(
            ApiError::card("invalid_cvc", None, "Your card's security code is invalid.")
                .with_param("card[cvc]"),
        );
    }
    Ok((number, (month, year)))
}

async fn create(State(sim): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&["type", "card", "billing_details", "expand"])?;
    let (number, expiry) = card_input(&params)?;
    sim.with(|store| {
        let id = create_card_method(store, &number, expiry)?;
        let object = store
            .payment_method(&id)
            .map(render::payment_method)
            .unwrap_or_default();
        one(store, &params, object)
    })
}

async fn retrieve(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    retrieve_one(
        &sim,
        &query,
        "PaymentMethod",
        &id,
        "payment_method",
        |store| store.payment_method(&id).map(render::payment_method),
    )
}
