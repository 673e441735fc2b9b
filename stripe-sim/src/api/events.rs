//! Events (retrieve, list) and webhook endpoints (create, retrieve, update, list, delete).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use serde_json::json;

use super::{body_params, list_page, list_query, merge_metadata, nullable, one, retrieve_one};
use crate::error::ApiError;
use crate::http::ApiResult;
use crate::render;
use crate::shared::Shared;
use crate::webhooks::add_endpoint;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/events", get(list))
        .route("/events/{id}", get(retrieve))
        .route(
            "/webhook_endpoints",
            get(list_endpoints).post(create_endpoint),
        )
        .route(
            "/webhook_endpoints/{id}",
            get(retrieve_endpoint)
                .post(update_endpoint)
                .delete(delete_endpoint),
        )
}

async fn retrieve(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &query, "event", &id, "id", |store| {
        store.event(&id).map(render::event)
    })
}

async fn list(State(sim): State<Arc<Shared>>, query: RawQuery) -> ApiResult {
    let params = list_query(&query, &["type", "types", "created", "delivery_success"])?;
    let types = params.strings("types")?;
    // `type` accepts a trailing wildcard such as `customer.subscription.*`.
    let matches = |kind: &str| match params.str("type") {
        None => true,
        Some(t) => match t.strip_suffix('*') {
            Some(prefix) => kind.starts_with(prefix),
            None => kind == t,
        },
    };
    list_page(&sim, &params, "/v1/events", |store| {
        Ok(store
            .events
            .iter()
            .rev()
            .filter(|e| matches(&e.kind))
            .filter(|e| types.is_empty() || types.contains(&e.kind))
            .map(render::event)
            .collect())
    })
}

async fn create_endpoint(State(sim): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&[
        "url",
        "enabled_events",
        "description",
        "metadata",
        "api_version",
        "connect",
        "expand",
    ])?;
    let url = params.req_str("url")?.to_owned();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ApiError::invalid("url", format!("Invalid URL: {url}")));
    }
    let events = params.strings("enabled_events")?;
    if events.is_empty() {
        return Err(ApiError::missing("enabled_events"));
    }
    let metadata = params.metadata("metadata")?.unwrap_or_default();
    sim.with(|store| {
        let id = add_endpoint(store, url, None, events);
        let endpoint = store
            .endpoints
            .iter_mut()
            .find(|e| e.id == id)
            .ok_or_else(|| ApiError::missing_resource("webhook_endpoint", &id, "id"))?;
        endpoint.description = params.str("description").map(str::to_owned);
        endpoint.metadata = metadata;
        let mut object = render::endpoint(endpoint);
        // Like Stripe, the secret is only shown in the create response.
        object["secret"] = json!(endpoint.secret);
        one(store, &params, object)
    })
}

async fn retrieve_endpoint(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &query, "webhook_endpoint", &id, "id", |store| {
        store
            .endpoints
            .iter()
            .find(|e| e.id == id)
            .map(render::endpoint)
    })
}

async fn update_endpoint(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&[
        "url",
        "enabled_events",
        "description",
        "metadata",
        "disabled",
        "expand",
    ])?;
    let events = params.strings("enabled_events")?;
    let disabled = params.bool("disabled")?;
    let metadata = params.metadata("metadata")?;
    sim.with(|store| {
        let endpoint = store
            .endpoints
            .iter_mut()
            .find(|e| e.id == id)
            .ok_or_else(|| ApiError::missing_resource("webhook_endpoint", &id, "id"))?;
        if let Some(url) = params.str("url").filter(|u| !u.is_empty()) {
            endpoint.url = url.to_owned();
        }
        if !events.is_empty() {
            endpoint.enabled_events = events;
        }
        if let Some(disabled) = disabled {
            endpoint.enabled = !disabled;
        }
        if let Some(description) = nullable(&params, "description") {
            endpoint.description = description;
        }
        merge_metadata(&mut endpoint.metadata, metadata);
        let object = render::endpoint(endpoint);
        one(store, &params, object)
    })
}

async fn delete_endpoint(State(sim): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    sim.with(|store| {
        let before = store.endpoints.len();
        store.endpoints.retain(|e| e.id != id);
        if store.endpoints.len() == before {
            return Err(ApiError::missing_resource("webhook_endpoint", &id, "id"));
        }
        Ok(axum::Json(
            json!({ "id": id, "object": "webhook_endpoint", "deleted": true }),
        ))
    })
}

async fn list_endpoints(State(sim): State<Arc<Shared>>, query: RawQuery) -> ApiResult {
    let params = list_query(&query, &[])?;
    list_page(&sim, &params, "/v1/webhook_endpoints", |store| {
        Ok(store.endpoints.iter().rev().map(render::endpoint).collect())
    })
}
