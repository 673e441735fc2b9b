//! Shipping rates: create, retrieve, update, list (`/v1/shipping_rates`), and the inline
//! `shipping_rate_data` that Checkout's `shipping_options` may carry instead of a rate id.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;

use super::{body_params, list_page, list_query, merge_metadata, one, retrieve_one};
use crate::error::ApiError;
use crate::form::Obj;
use crate::http::ApiResult;
use crate::model::{EstimateBound, ShippingRate};
use crate::render::shipping as render;
use crate::shared::Shared;
use crate::store::Store;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/shipping_rates", get(list).post(create))
        .route("/shipping_rates/{id}", get(retrieve).post(update))
}

const DATA_KEYS: [&str; 7] = [
    "display_name",
    "type",
    "fixed_amount",
    "delivery_estimate",
    "metadata",
    "tax_behavior",
    "tax_code",
];

const UNITS: [&str; 5] = ["hour", "day", "business_day", "week", "month"];

fn bound(estimate: &Obj<'_>, key: &str) -> Result<Option<EstimateBound>, ApiError> {
    let Some(b) = estimate.child(key)? else {
        return Ok(None);
    };
    b.allow(&["unit", "value"])?;
    let unit = b.req_str("unit")?;
    if !UNITS.contains(&unit) {
        return Err(ApiError::invalid(
            &b.name("unit"),
            format!("Invalid unit: must be one of {}", UNITS.join(", ")),
        ));
    }
    let value = b
        .i64("value")?
        .ok_or_else(|| ApiError::missing(&b.name("value")))?;
    if value < 1 {
        return Err(ApiError::invalid(
            &b.name("value"),
            "This value must be greater than or equal to 1.".to_owned(),
        ));
    }
    Ok(Some(EstimateBound {
        unit: unit.to_owned(),
        value,
    }))
}

fn tax_behavior(data: &Obj<'_>) -> Result<String, ApiError> {
    let behavior = data.str("tax_behavior").unwrap_or("unspecified");
    if !matches!(behavior, "inclusive" | "exclusive" | "unspecified") {
        return Err(ApiError::invalid(
            &data.name("tax_behavior"),
            "Invalid tax_behavior: must be one of inclusive, exclusive, or unspecified".to_owned(),
        ));
    }
    Ok(behavior.to_owned())
}

/// A session's `shipping_options[N][shipping_rate_data]`: a new rate, stored; its id.
pub(super) fn insert_rate_data(store: &mut Store, data: &Obj<'_>) -> Result<String, ApiError> {
    data.allow(&DATA_KEYS)?;
    insert_rate(store, data)
}

/// A new rate from create parameters (keys already checked), stored; its id.
fn insert_rate(store: &mut Store, data: &Obj<'_>) -> Result<String, ApiError> {
    let display_name = data.req_str("display_name")?.to_owned();
    if let Some(kind) = data.str("type").filter(|t| *t != "fixed_amount") {
        return Err(ApiError::invalid(
            &data.name("type"),
            format!("Invalid type: {kind} (must be fixed_amount)"),
        ));
    }
    let fixed = data
        .child("fixed_amount")?
        .ok_or_else(|| ApiError::missing(&data.name("fixed_amount")))?;
    fixed.allow(&["amount", "currency"])?;
    let amount = fixed
        .i64("amount")?
        .ok_or_else(|| ApiError::missing(&fixed.name("amount")))?;
    if amount < 0 {
        return Err(ApiError::invalid(
            &fixed.name("amount"),
            "This value must be greater than or equal to 0.".to_owned(),
        ));
    }
    let currency = fixed.req_str("currency")?.to_lowercase();
    let (minimum, maximum) = match data.child("delivery_estimate")? {
        Some(estimate) => {
            estimate.allow(&["minimum", "maximum"])?;
            (bound(&estimate, "minimum")?, bound(&estimate, "maximum")?)
        }
        None => (None, None),
    };
    let id = store.id("shr");
    store.shipping_rates.push(ShippingRate {
        id: id.clone(),
        display_name,
        amount,
        currency,
        active: true,
        minimum,
        maximum,
        metadata: data.metadata("metadata")?.unwrap_or_default(),
        tax_behavior: tax_behavior(data)?,
        tax_code: data.str("tax_code").map(str::to_owned),
        created: store.now,
    });
    Ok(id)
}

async fn create(State(sim): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let params = body_params(&body)?;
    let data = params.obj();
    let mut allowed = DATA_KEYS.to_vec();
    allowed.push("expand");
    params.allow(&allowed)?;
    sim.with(|store| {
        let id = insert_rate(store, &data)?;
        let object = store
            .shipping_rate(&id)
            .map(render::rate)
            .unwrap_or_default();
        one(store, &params, object)
    })
}

async fn retrieve(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &query, "shipping_rate", &id, "id", |store| {
        store.shipping_rate(&id).map(render::rate)
    })
}

/// Stripe lets an existing rate change only whether it is offered, its metadata and its tax
/// behaviour; amounts are fixed once created.
async fn update(State(sim): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&["active", "metadata", "tax_behavior", "expand"])?;
    let active = params.bool("active")?;
    let metadata = params.metadata("metadata")?;
    let behavior = params
        .str("tax_behavior")
        .map(|_| tax_behavior(&params.obj()))
        .transpose()?;
    sim.with(|store| {
        let Some(rate) = store.shipping_rates.iter_mut().find(|r| r.id == id) else {
            return Err(ApiError::missing_resource("shipping_rate", &id, "id"));
        };
        if let Some(a) = active {
            rate.active = a;
        }
        if let Some(b) = behavior {
            rate.tax_behavior = b;
        }
        merge_metadata(&mut rate.metadata, metadata);
        let object = store
            .shipping_rate(&id)
            .map(render::rate)
            .unwrap_or_default();
        one(store, &params, object)
    })
}

async fn list(State(sim): State<Arc<Shared>>, query: RawQuery) -> ApiResult {
    let params = list_query(&query, &["active", "created", "currency"])?;
    let active = params.bool("active")?;
    let currency = params.str("currency").map(str::to_lowercase);
    list_page(&sim, &params, "/v1/shipping_rates", |store| {
        Ok(store
            .shipping_rates
            .iter()
            .rev()
            .filter(|r| active.is_none_or(|a| r.active == a))
            .filter(|r| currency.as_ref().is_none_or(|c| &r.currency == c))
            .map(render::rate)
            .collect())
    })
}
