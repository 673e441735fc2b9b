//! Subscriptions (retrieve, list, update, cancel) and invoices (retrieve, list, lines).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;

use super::{
    body_params, delete_params, list_page, list_query, merge_metadata, nullable, one, retrieve_one,
};
use crate::billing::plan_change::change_price;
use crate::billing::subscriptions::{cancel_now, emit_updated, set_cancel_at_period_end};
use crate::error::ApiError;
use crate::form::{Obj, Params};
use crate::http::ApiResult;
use crate::model::{Meta, SubStatus, Subscription};
use crate::render::billing as render;
use crate::shared::Shared;
use crate::store::Store;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/subscriptions", get(list))
        .route(
            "/subscriptions/{id}",
            get(retrieve).post(update).delete(cancel),
        )
        .route("/invoices", get(list_invoices))
        .route("/invoices/{id}", get(retrieve_invoice))
        .route("/invoices/{id}/lines", get(invoice_lines))
}

fn missing(id: &str) -> ApiError {
    ApiError::missing_resource("subscription", id, "id")
}

fn rendered(store: &Store, id: &str) -> serde_json::Value {
    store
        .subscription(id)
        .map(|s| render::subscription(store, s))
        .unwrap_or_default()
}

async fn retrieve(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &query, "subscription", &id, "id", |store| {
        store
            .subscription(&id)
            .map(|s| render::subscription(store, s))
    })
}

/// The `status` filter of the list: live ones by default, `all`, `ended`, or one status.
fn status_filter(status: &str) -> Result<Box<dyn Fn(SubStatus) -> bool>, ApiError> {
    Ok(match status {
        "" => Box::new(SubStatus::is_live),
        "all" => Box::new(|_| true),
        "ended" => Box::new(|s| !s.is_live()),
        other => match SubStatus::parse(other) {
            Some(want) => Box::new(move |s| s == want),
            None if other == "paused" => Box::new(|_| false),
            None => {
                return Err(ApiError::invalid(
                    "status",
                    format!("Invalid status: {other}"),
                ));
            }
        },
    })
}

async fn list(State(sim): State<Arc<Shared>>, query: RawQuery) -> ApiResult {
    let params = list_query(
        &query,
        &[
            "customer",
            "price",
            "status",
            "created",
            "current_period_end",
            "current_period_start",
            "collection_method",
            "test_clock",
        ],
    )?;
    let wanted = status_filter(params.str("status").unwrap_or(""))?;
    list_page(&sim, &params, "/v1/subscriptions", |store| {
        Ok(store
            .subscriptions
            .iter()
            .rev()
            .filter(|s| wanted(s.status))
            .filter(|s| params.str("customer").is_none_or(|c| s.customer == c))
            .filter(|s| {
                params
                    .str("price")
                    .is_none_or(|price| s.items.iter().any(|i| i.price == price))
            })
            .map(|s| render::subscription(store, s))
            .collect())
    })
}

fn proration_behavior(params: &Params) -> Result<&str, ApiError> {
    let behavior = params
        .str("proration_behavior")
        .unwrap_or("create_prorations");
    if !matches!(behavior, "create_prorations" | "always_invoice" | "none") {
        return Err(ApiError::invalid(
            "proration_behavior",
            format!("Invalid proration_behavior: {behavior}"),
        ));
    }
    Ok(behavior)
}

/// Billing changes (items, cancellation) need a live subscription and at most one item.
fn check_billing_change(
    sub: &Subscription,
    params: &Params,
    items: &[Obj<'_>],
) -> Result<(), ApiError> {
    let touches_billing =
        !items.is_empty() || params.has("cancel_at_period_end") || params.has("cancel_at");
    if !sub.status.is_live() && touches_billing {
        return Err(ApiError::state(
            "A canceled subscription can only update its cancellation_details and metadata."
                .to_owned(),
        ));
    }
    if items.len() > 1 {
        return Err(ApiError::invalid(
            "items",
            "The sim supports one subscription item.".to_owned(),
        ));
    }
    Ok(())
}

/// `items[0]`: a new price and/or quantity for the (only) item.
fn change_item(
    store: &mut Store,
    sub: &Subscription,
    item: &Obj<'_>,
    behavior: &str,
) -> Result<(), ApiError> {
    item.allow(&["id", "price", "quantity", "metadata"])?;
    let quantity = item.i64("quantity")?;
    if quantity.is_some_and(|q| q < 1) {
        return Err(ApiError::invalid(
            &item.name("quantity"),
            "Quantity must be at least 1.".to_owned(),
        ));
    }
    let current = item
        .str("id")
        .and_then(|si| sub.items.iter().find(|i| i.id == si))
        .or(sub.items.first())
        .map(|i| i.price.clone())
        .unwrap_or_default();
    let price = item.str("price").map_or(current, str::to_owned);
    change_price(store, &sub.id, item.str("id"), &price, quantity, behavior)
}

fn apply_update(store: &mut Store, id: &str, params: &Params) -> Result<(), ApiError> {
    let sub = store.subscription(id).cloned().ok_or_else(|| missing(id))?;
    let behavior = proration_behavior(params)?;
    // Parse everything before changing anything, so a bad parameter changes nothing.
    let cancel_flag = params.bool("cancel_at_period_end")?;
    let cancel_at = match params.str("cancel_at") {
        Some("") => Some(None),
        Some(_) => Some(params.i64("cancel_at")?),
        None => None,
    };
    let metadata = params.metadata("metadata")?;
    let items = params.list("items")?;
    check_billing_change(&sub, params, &items)?;
    if let Some(item) = items.first() {
        change_item(store, &sub, item, behavior)?;
    }
    if let Some(flag) = cancel_flag {
        set_cancel_at_period_end(store, id, flag);
    }
    let before = rendered(store, id);
    set_fields(store, id, params, cancel_at, metadata);
    emit_updated(store, id, &before);
    Ok(())
}

/// The plain fields of an update: `cancel_at`, description, card, metadata.
fn set_fields(
    store: &mut Store,
    id: &str,
    params: &Params,
    cancel_at: Option<Option<i64>>,
    metadata: Option<Meta>,
) {
    let now = store.now;
    let Some(s) = store.subscription_mut(id) else {
        return;
    };
    if let Some(at) = cancel_at {
        s.cancel_at = at;
        s.canceled_at = at.map(|_| now);
    }
    if let Some(description) = nullable(params, "description") {
        s.description = description;
    }
    if let Some(card) = nullable(params, "default_payment_method") {
        s.default_payment_method = card;
    }
    merge_metadata(&mut s.metadata, metadata);
}

async fn update(State(sim): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&[
        "items",
        "cancel_at_period_end",
        "cancel_at",
        "proration_behavior",
        "payment_behavior",
        "metadata",
        "description",
        "default_payment_method",
        "cancellation_details",
        "expand",
    ])?;
    if let Some(card) = params
        .str("default_payment_method")
        .filter(|s| !s.is_empty())
        && sim.read(|store| store.payment_method(card).is_none())
    {
        return Err(ApiError::missing_resource(
            "payment_method",
            card,
            "default_payment_method",
        ));
    }
    sim.with(|store| {
        apply_update(store, &id, &params)?;
        let object = rendered(store, &id);
        one(store, &params, object)
    })
}

async fn cancel(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
    body: Bytes,
) -> ApiResult {
    let params = delete_params(&query, &body)?;
    params.allow(&["invoice_now", "prorate", "cancellation_details", "expand"])?;
    sim.with(|store| {
        let status = store
            .subscription(&id)
            .map(|s| s.status)
            .ok_or_else(|| missing(&id))?;
        if !status.is_live() {
            return Err(ApiError::state(format!(
                "This subscription is already {}.",
                status.as_str()
            )));
        }
        cancel_now(store, &id, Some("cancellation_requested"));
        let object = rendered(store, &id);
        one(store, &params, object)
    })
}

async fn retrieve_invoice(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &query, "invoice", &id, "invoice", |store| {
        store.invoice(&id).map(|i| render::invoice(store, i))
    })
}

async fn list_invoices(State(sim): State<Arc<Shared>>, query: RawQuery) -> ApiResult {
    let params = list_query(
        &query,
        &[
            "customer",
            "subscription",
            "status",
            "collection_method",
            "created",
            "due_date",
        ],
    )?;
    list_page(&sim, &params, "/v1/invoices", |store| {
        Ok(store
            .invoices
            .iter()
            .rev()
            .filter(|i| params.str("customer").is_none_or(|c| i.customer == c))
            .filter(|i| {
                params
                    .str("subscription")
                    .is_none_or(|s| i.subscription.as_deref() == Some(s))
            })
            .filter(|i| params.str("status").is_none_or(|s| i.status.as_str() == s))
            .map(|i| render::invoice(store, i))
            .collect())
    })
}

async fn invoice_lines(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    let params = list_query(&query, &[])?;
    let url = format!("/v1/invoices/{id}/lines");
    list_page(&sim, &params, &url, |store| {
        let invoice = store
            .invoice(&id)
            .ok_or_else(|| ApiError::missing_resource("invoice", &id, "invoice"))?;
        Ok(render::invoice_lines(store, invoice))
    })
}
