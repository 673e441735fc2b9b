//! The `/v1` API: routing plus helpers shared by the resource handlers.

mod account;
mod charges;
mod checkout;
mod checkout_params;
mod checkout_pricing;
mod customers;
mod discounts;
mod events;
mod payment_intents;
mod payment_methods;
mod portal;
mod prices;
mod products;
mod refunds;
mod shipping_rates;
mod subscriptions;
mod tax;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::RawQuery;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::auth;
use crate::error::ApiError;
use crate::form::Params;
use crate::http::{self, ApiResult, Page};
use crate::model::Meta;
use crate::render::{self, diff};
use crate::shared::Shared;
use crate::store::Store;

pub(crate) fn router(sim: Arc<Shared>) -> Router {
    let v1 = Router::new()
        .merge(account::routes())
        .merge(products::routes())
        .merge(prices::routes())
        .merge(customers::routes())
        .merge(checkout::routes())
        .merge(portal::routes())
        .merge(subscriptions::routes())
        .merge(events::routes())
        .merge(payment_intents::routes())
        .merge(payment_methods::routes())
        .merge(charges::routes())
        .merge(refunds::routes())
        .merge(discounts::routes())
        .merge(tax::routes())
        .merge(shipping_rates::routes())
        .fallback(unknown_url)
        .layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            http::idempotency,
        ))
        .layer(axum::middleware::from_fn(auth::auth))
        .layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            http::api_faults,
        ))
        .layer(axum::middleware::from_fn(auth::keys))
        .with_state(sim);
    Router::new().nest("/v1", v1)
}

async fn unknown_url(uri: Uri) -> Response {
    ApiError::not_found_url(uri.path()).into_response()
}

/// Query-string parameters of a GET.
fn query_params(query: &RawQuery) -> Result<Params, ApiError> {
    Params::parse(query.0.as_deref().unwrap_or(""))
}

/// Form body of a POST.
fn body_params(body: &Bytes) -> Result<Params, ApiError> {
    http::params(body)
}

/// Parameters of a DELETE: async-stripe sends them as a form body, curl users often use the query.
fn delete_params(query: &RawQuery, body: &Bytes) -> Result<Params, ApiError> {
    if body.is_empty() {
        query_params(query)
    } else {
        body_params(body)
    }
}

/// One object, with `expand[]` applied.
fn one(store: &Store, params: &Params, mut object: Value) -> ApiResult {
    render::expand(store, &mut object, &params.strings("expand")?)?;
    Ok(axum::Json(object))
}

/// A page of objects (already newest first), with `expand[]` (`data.…`) applied.
fn page(store: &Store, params: &Params, items: Vec<Value>, url: &str) -> ApiResult {
    let mut list = Page::from(params)?.list(items, url)?;
    render::expand(store, &mut list, &params.strings("expand")?)?;
    Ok(axum::Json(list))
}

/// Every `GET /v1/<resource>/{id}` does the same thing: accept only `expand`, look the object
/// up under the read lock, answer 404 (`No such <kind>`, naming `param`) if `render` finds
/// nothing, else return the rendered object with `expand[]` applied.
fn retrieve_one(
    sim: &Shared,
    query: &RawQuery,
    kind: &str,
    id: &str,
    param: &str,
    render: impl FnOnce(&Store) -> Option<Value>,
) -> ApiResult {
    let params = query_params(query)?;
    params.allow(&["expand"])?;
    sim.read(|store| {
        let object = render(store).ok_or_else(|| ApiError::missing_resource(kind, id, param))?;
        one(store, &params, object)
    })
}

/// The query of a list endpoint, rejecting anything but its `filters`, pagination and `expand`.
/// Handlers parse their own filter values from the result before calling [`list_page`].
fn list_query(query: &RawQuery, filters: &[&str]) -> Result<Params, ApiError> {
    let params = query_params(query)?;
    params.allow(&list_keys(filters))?;
    Ok(params)
}

/// Every list endpoint ends the same way: collect the matching objects (newest first, or
/// whatever order the resource lists in) under the read lock and cut one page at `url`.
fn list_page(
    sim: &Shared,
    params: &Params,
    url: &str,
    items: impl FnOnce(&Store) -> Result<Vec<Value>, ApiError>,
) -> ApiResult {
    sim.read(|store| {
        let items = items(store)?;
        page(store, params, items, url)
    })
}

/// The `POST /v1/<resource>/{id}` shape shared by objects whose updates emit `<kind>.updated`:
/// 404 if `render` finds nothing, apply `change`, then emit the event with
/// `previous_attributes` only if the rendered object actually changed, and answer with the
/// new rendering.
fn update_one(
    sim: &Shared,
    params: &Params,
    kind: &str,
    id: &str,
    render: impl Fn(&Store) -> Option<Value>,
    change: impl FnOnce(&mut Store) -> Result<(), ApiError>,
) -> ApiResult {
    sim.with(|store| {
        let before = render(store).ok_or_else(|| ApiError::missing_resource(kind, id, "id"))?;
        change(store)?;
        let after = render(store).unwrap_or_default();
        if let Some(previous) = diff(&before, &after) {
            store.emit(&format!("{kind}.updated"), after.clone(), Some(previous));
        }
        one(store, params, after)
    })
}

/// Allowed keys for a list endpoint: its filters plus pagination and `expand`.
fn list_keys<'a>(filters: &[&'a str]) -> Vec<&'a str> {
    let mut keys: Vec<&str> = Page::KEYS.to_vec();
    keys.extend_from_slice(filters);
    keys
}

/// Applies a `metadata` update when the request has one (`model::merge_metadata`).
fn merge_metadata(target: &mut Meta, update: Option<Meta>) {
    if let Some(update) = update {
        crate::model::merge_metadata(target, update);
    }
}

/// An optional string parameter where an empty value means "unset" (null).
fn nullable(params: &Params, key: &str) -> Option<Option<String>> {
    params
        .str(key)
        .map(|s| (!s.is_empty()).then(|| s.to_owned()))
}
