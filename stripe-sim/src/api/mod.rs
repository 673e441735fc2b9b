//! The `/v1` API: routing plus helpers shared by the resource handlers.

mod catalog;
mod checkout;
mod customers;
mod events;

pub use events::add_endpoint;
mod subscriptions;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::RawQuery;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::Shared;
use crate::billing::payments::diff;
use crate::form::Params;
use crate::http::{self, ApiError, ApiResult, Page};
use crate::objects;
use crate::state::State;

pub fn router(sim: Arc<Shared>) -> Router {
    let v1 = Router::new()
        .merge(catalog::routes())
        .merge(customers::routes())
        .merge(checkout::routes())
        .merge(subscriptions::routes())
        .merge(events::routes())
        .fallback(unknown_url)
        .layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            http::idempotency,
        ))
        .layer(axum::middleware::from_fn(http::auth))
        .layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            http::api_faults,
        ))
        .with_state(sim);
    Router::new().nest("/v1", v1)
}

async fn unknown_url(uri: Uri) -> Response {
    ApiError::not_found_url(uri.path()).into_response()
}

/// Query-string parameters of a GET.
pub fn query(q: &RawQuery) -> Result<Params, ApiError> {
    Params::parse(q.0.as_deref().unwrap_or(""))
}

/// Form body of a POST.
pub fn body(b: &Bytes) -> Result<Params, ApiError> {
    http::params(b)
}

/// One object, with `expand[]` applied.
pub fn one(st: &State, p: &Params, mut v: Value) -> ApiResult {
    objects::expand(st, &mut v, &p.strings("expand")?)?;
    Ok(axum::Json(v))
}

/// A page of objects (already newest first), with `expand[]` (`data.…`) applied.
pub fn page(st: &State, p: &Params, items: Vec<Value>, url: &str) -> ApiResult {
    let mut v = Page::from(p)?.list(items, url)?;
    objects::expand(st, &mut v, &p.strings("expand")?)?;
    Ok(axum::Json(v))
}

/// Every `GET /v1/<resource>/{id}` does the same thing: accept only `expand`, look the object
/// up under the read lock, answer 404 (`No such <kind>`, naming `param`) if `render` finds
/// nothing, else return the rendered object with `expand[]` applied.
pub fn retrieve_one(
    sim: &Shared,
    q: &RawQuery,
    kind: &str,
    id: &str,
    param: &str,
    render: impl FnOnce(&State) -> Option<Value>,
) -> ApiResult {
    let p = query(q)?;
    p.allow(&["expand"])?;
    sim.read(|st| {
        let v = render(st).ok_or_else(|| ApiError::missing_resource(kind, id, param))?;
        one(st, &p, v)
    })
}

/// The query of a list endpoint, rejecting anything but its `filters`, pagination and `expand`.
/// Handlers parse their own filter values from the result before calling [`list_page`].
pub fn list_query(q: &RawQuery, filters: &[&str]) -> Result<Params, ApiError> {
    let p = query(q)?;
    p.allow(&list_keys(filters))?;
    Ok(p)
}

/// Every list endpoint ends the same way: collect the matching objects (newest first, or
/// whatever order the resource lists in) under the read lock and cut one page at `url`.
pub fn list_page(
    sim: &Shared,
    p: &Params,
    url: &str,
    items: impl FnOnce(&State) -> Result<Vec<Value>, ApiError>,
) -> ApiResult {
    sim.read(|st| {
        let items = items(st)?;
        page(st, p, items, url)
    })
}

/// The `POST /v1/<resource>/{id}` shape shared by objects whose updates emit `<kind>.updated`:
/// 404 if `render` finds nothing, apply `change`, then emit the event with
/// `previous_attributes` only if the rendered object actually changed, and answer with the
/// new rendering.
pub fn update_one(
    sim: &Shared,
    p: &Params,
    kind: &str,
    id: &str,
    render: impl Fn(&State) -> Option<Value>,
    change: impl FnOnce(&mut State) -> Result<(), ApiError>,
) -> ApiResult {
    sim.with(|st| {
        let before = render(st).ok_or_else(|| ApiError::missing_resource(kind, id, "id"))?;
        change(st)?;
        let after = render(st).unwrap_or_default();
        if let Some(prev) = diff(&before, &after) {
            st.emit(&format!("{kind}.updated"), after.clone(), Some(prev));
        }
        one(st, p, after)
    })
}

/// Allowed keys for a list endpoint: its filters plus pagination and `expand`.
pub fn list_keys<'a>(filters: &[&'a str]) -> Vec<&'a str> {
    let mut keys: Vec<&str> = Page::KEYS.to_vec();
    keys.extend_from_slice(filters);
    keys
}

/// Applies a `metadata` update: empty values delete keys, `metadata=` clears all.
pub fn merge_metadata(target: &mut crate::state::Meta, update: Option<crate::state::Meta>) {
    let Some(update) = update else { return };
    if update.is_empty() {
        target.clear();
    }
    for (k, v) in update {
        if v.is_empty() {
            target.remove(&k);
        } else {
            target.insert(k, v);
        }
    }
}

/// An optional string parameter where an empty value means "unset" (null).
pub fn nullable(p: &Params, key: &str) -> Option<Option<String>> {
    p.str(key).map(|s| (!s.is_empty()).then(|| s.to_owned()))
}
