//! Prices: create (for a product, or with `product_data`), retrieve, update, list; lookup keys.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;

use super::products::insert_product;
use super::{
    body_params, list_page, list_query, merge_metadata, nullable, one, retrieve_one, update_one,
};
use crate::error::ApiError;
use crate::form::{Obj, Params};
use crate::http::ApiResult;
use crate::model::{Price, Product, Recurring};
use crate::render::catalog as render;
use crate::render::diff;
use crate::shared::Shared;
use crate::store::Store;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/prices", get(list_prices).post(create_price))
        .route("/prices/{id}", get(get_price).post(update_price))
}

fn recurring(params: &Params) -> Result<Option<Recurring>, ApiError> {
    let Some(r) = params.child("recurring")? else {
        return Ok(None);
    };
    r.allow(&[
        "interval",
        "interval_count",
        "usage_type",
        "meter",
        "trial_period_days",
    ])?;
    if r.get("trial_period_days").is_some() {
        return Err(ApiError::invalid(
            "recurring[trial_period_days]",
            "trial_period_days is not supported on prices in this API version; pass subscription_data[trial_period_days] to Checkout.".to_owned(),
        ));
    }
    let interval = r.req_str("interval")?;
    if !matches!(interval, "day" | "week" | "month" | "year") {
        return Err(ApiError::invalid(
            "recurring[interval]",
            "Invalid recurring[interval]: must be one of day, week, month, or year".to_owned(),
        ));
    }
    let count = r.i64("interval_count")?.unwrap_or(1);
    if count < 1 {
        return Err(ApiError::invalid(
            "recurring[interval_count]",
            "interval_count must be at least 1".to_owned(),
        ));
    }
    Ok(Some(Recurring {
        interval: interval.to_owned(),
        interval_count: count,
    }))
}

const CREATE_KEYS: [&str; 14] = [
    "product",
    "product_data",
    "currency",
    "unit_amount",
    "unit_amount_decimal",
    "recurring",
    "lookup_key",
    "nickname",
    "metadata",
    "active",
    "tax_behavior",
    "transfer_lookup_key",
    "billing_scheme",
    "expand",
];

/// `unit_amount`, or `unit_amount_decimal` rounded to whole minor units.
fn unit_amount(params: &Params) -> Result<i64, ApiError> {
    let amount = match (
        params.i64("unit_amount")?,
        params.str("unit_amount_decimal"),
    ) {
        (Some(a), _) => a,
        (None, Some(d)) => d.parse::<f64>().map(|f| f.round() as i64).map_err(|_| {
            ApiError::invalid("unit_amount_decimal", format!("Invalid decimal: {d}"))
        })?,
        (None, None) => return Err(ApiError::missing("unit_amount")),
    };
    if amount < 0 {
        return Err(ApiError::invalid(
            "unit_amount",
            "This value must be greater than or equal to 0.".to_owned(),
        ));
    }
    Ok(amount)
}

/// The product a new price belongs to: `product`, or one created from `product_data`.
fn price_product(
    store: &mut Store,
    params: &Params,
    product_data: Option<&Obj<'_>>,
) -> Result<String, ApiError> {
    match (params.str("product"), product_data) {
        (Some(id), _) => {
            store
                .product(id)
                .ok_or_else(|| ApiError::missing_resource("product", id, "product"))?;
            Ok(id.to_owned())
        }
        (None, Some(data)) => {
            data.allow(&[
                "name",
                "metadata",
                "active",
                "unit_label",
                "statement_descriptor",
            ])?;
            let id = store.id("prod");
            let name = data.req_str("name")?.to_owned();
            let product = Product {
                active: data.bool("active")?.unwrap_or(true),
                metadata: data.metadata("metadata")?.unwrap_or_default(),
                unit_label: data.str("unit_label").map(str::to_owned),
                ..Product::new(id.clone(), name, store.now)
            };
            insert_product(store, product);
            Ok(id)
        }
        (None, None) => Err(ApiError::missing("product")),
    }
}

async fn create_price(State(sim): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&CREATE_KEYS)?;
    let currency = params.req_str("currency")?.to_lowercase();
    let unit_amount = unit_amount(&params)?;
    let recurring = recurring(&params)?;
    let metadata = params.metadata("metadata")?.unwrap_or_default();
    let active = params.bool("active")?.unwrap_or(true);
    let transfer = params.bool("transfer_lookup_key")?.unwrap_or(false);
    let product_data = params.child("product_data")?;
    sim.with(|store| {
        let product = price_product(store, &params, product_data.as_ref())?;
        let lookup_key = params
            .str("lookup_key")
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        if let Some(key) = &lookup_key {
            take_lookup_key(store, key, transfer)?;
        }
        let id = store.id("price");
        store.prices.push(Price {
            id: id.clone(),
            product,
            active,
            currency,
            unit_amount,
            recurring,
            lookup_key,
            nickname: params.str("nickname").map(str::to_owned),
            metadata,
            created: store.now,
            tax_behavior: params
                .str("tax_behavior")
                .unwrap_or("unspecified")
                .to_owned(),
        });
        let object = store.price(&id).map(render::price).unwrap_or_default();
        store.emit("price.created", object.clone(), None);
        one(store, &params, object)
    })
}

/// Lookup keys are unique; `transfer_lookup_key=true` moves one from its current price.
fn take_lookup_key(store: &mut Store, key: &str, transfer: bool) -> Result<(), ApiError> {
    let Some(holder) = store
        .prices
        .iter()
        .find(|x| x.lookup_key.as_deref() == Some(key))
        .map(|x| x.id.clone())
    else {
        return Ok(());
    };
    if !transfer {
        return Err(ApiError::invalid(
            "lookup_key",
            format!("A price (`{holder}`) already uses that lookup key."),
        ));
    }
    let before = store.price(&holder).map(render::price).unwrap_or_default();
    if let Some(x) = store.prices.iter_mut().find(|x| x.id == holder) {
        x.lookup_key = None;
    }
    let after = store.price(&holder).map(render::price).unwrap_or_default();
    let previous = diff(&before, &after);
    store.emit("price.updated", after, previous);
    Ok(())
}

async fn get_price(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &query, "price", &id, "id", |store| {
        store.price(&id).map(render::price)
    })
}

async fn update_price(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&[
        "active",
        "lookup_key",
        "nickname",
        "metadata",
        "transfer_lookup_key",
        "tax_behavior",
        "expand",
    ])?;
    let active = params.bool("active")?;
    let metadata = params.metadata("metadata")?;
    let transfer = params.bool("transfer_lookup_key")?.unwrap_or(false);
    let current = |store: &Store| store.price(&id).map(render::price);
    update_one(&sim, &params, "price", &id, current, |store| {
        let lookup = nullable(&params, "lookup_key");
        if let Some(Some(key)) = &lookup
            && store.price(&id).and_then(|x| x.lookup_key.as_deref()) != Some(key.as_str())
        {
            take_lookup_key(store, key, transfer)?;
        }
        let Some(price) = store.prices.iter_mut().find(|x| x.id == id) else {
            return Err(ApiError::missing_resource("price", &id, "id"));
        };
        if let Some(a) = active {
            price.active = a;
        }
        if let Some(l) = lookup {
            price.lookup_key = l;
        }
        if let Some(n) = nullable(&params, "nickname") {
            price.nickname = n;
        }
        if let Some(t) = params.str("tax_behavior") {
            price.tax_behavior = t.to_owned();
        }
        merge_metadata(&mut price.metadata, metadata);
        Ok(())
    })
}

async fn list_prices(State(sim): State<Arc<Shared>>, query: RawQuery) -> ApiResult {
    let params = list_query(
        &query,
        &[
            "active",
            "currency",
            "product",
            "type",
            "lookup_keys",
            "recurring",
            "created",
        ],
    )?;
    let active = params.bool("active")?;
    let lookup_keys = params.strings("lookup_keys")?;
    let interval = match params.child("recurring")? {
        Some(r) => {
            r.allow(&["interval", "usage_type", "meter"])?;
            r.str("interval").map(str::to_owned)
        }
        None => None,
    };
    list_page(&sim, &params, "/v1/prices", |store| {
        Ok(store
            .prices
            .iter()
            .rev()
            .filter(|x| active.is_none_or(|a| x.active == a))
            .filter(|x| {
                params
                    .str("currency")
                    .is_none_or(|c| x.currency == c.to_lowercase())
            })
            .filter(|x| params.str("product").is_none_or(|pr| x.product == pr))
            .filter(|x| match params.str("type") {
                Some("recurring") => x.recurring.is_some(),
                Some("one_time") => x.recurring.is_none(),
                _ => true,
            })
            .filter(|x| {
                lookup_keys.is_empty()
                    || x.lookup_key
                        .as_ref()
                        .is_some_and(|k| lookup_keys.contains(k))
            })
            .filter(|x| {
                interval
                    .as_ref()
                    .is_none_or(|i| x.recurring.as_ref().is_some_and(|r| &r.interval == i))
            })
            .map(render::price)
            .collect())
    })
}
