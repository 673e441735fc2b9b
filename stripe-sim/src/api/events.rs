//! Events (retrieve, list) and webhook endpoints (create, retrieve, update, list, delete).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use serde_json::json;

use super::{body, list_page, list_query, merge_metadata, nullable, one, retrieve_one};
use crate::Shared;
use crate::http::{ApiError, ApiResult};
use crate::objects;
use crate::state::{Endpoint, Outgoing, State as SimState};

pub fn routes() -> Router<Arc<Shared>> {
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
    q: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &q, "event", &id, "id", |st| {
        st.event(&id).map(objects::event)
    })
}

async fn list(State(sim): State<Arc<Shared>>, q: RawQuery) -> ApiResult {
    let p = list_query(&q, &["type", "types", "created", "delivery_success"])?;
    let types = p.strings("types")?;
    // `type` accepts a trailing wildcard such as `customer.subscription.*`.
    let matches = |kind: &str| match p.str("type") {
        None => true,
        Some(t) => match t.strip_suffix('*') {
            Some(prefix) => kind.starts_with(prefix),
            None => kind == t,
        },
    };
    list_page(&sim, &p, "/v1/events", |st| {
        Ok(st
            .events
            .iter()
            .rev()
            .filter(|e| matches(&e.kind))
            .filter(|e| types.is_empty() || types.contains(&e.kind))
            .map(objects::event)
            .collect())
    })
}

/// A Stripe-looking signing secret (`whsec_` + 32 hex), unique per endpoint.
pub fn new_secret(seed: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest =
        Sha256::digest(format!("stripe-sim:{seed}:{}", crate::time::wall_clock()).as_bytes());
    format!("whsec_{}", hex::encode(&digest[..16]))
}

/// Adds an endpoint and schedules the seed catalog's creation events for it.
pub fn add_endpoint(
    st: &mut SimState,
    url: String,
    secret: Option<String>,
    events: Vec<String>,
) -> String {
    let id = st.id("we");
    let secret = secret.unwrap_or_else(|| new_secret(&id));
    st.endpoints.push(Endpoint {
        id: id.clone(),
        url,
        secret,
        enabled_events: if events.is_empty() {
            vec!["*".to_owned()]
        } else {
            events
        },
        created: st.now,
        description: None,
        metadata: Default::default(),
        enabled: true,
    });
    let seeds: Vec<String> = st.seed_events.clone();
    for event in seeds {
        let wanted = st
            .event(&event)
            .map(|e| e.kind.clone())
            .is_some_and(|k| st.endpoints.iter().any(|e| e.id == id && e.wants(&k)));
        if wanted {
            st.outbox.push(Outgoing::To {
                event,
                endpoint: id.clone(),
            });
        }
    }
    id
}

async fn create_endpoint(State(sim): State<Arc<Shared>>, b: Bytes) -> ApiResult {
    let p = body(&b)?;
    p.allow(&[
        "url",
        "enabled_events",
        "description",
        "metadata",
        "api_version",
        "connect",
        "expand",
    ])?;
    let url = p.req_str("url")?.to_owned();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ApiError::invalid("url", format!("Invalid URL: {url}")));
    }
    let events = p.strings("enabled_events")?;
    if events.is_empty() {
        return Err(ApiError::missing("enabled_events"));
    }
    let metadata = p.metadata("metadata")?.unwrap_or_default();
    sim.with(|st| {
        let id = add_endpoint(st, url, None, events);
        let ep = st
            .endpoints
            .iter_mut()
            .find(|e| e.id == id)
            .ok_or_else(|| ApiError::missing_resource("webhook_endpoint", &id, "id"))?;
        ep.description = p.str("description").map(str::to_owned);
        ep.metadata = metadata;
        let mut v = objects::endpoint(ep);
        // Like Stripe, the secret is only shown in the create response.
        v["secret"] = json!(ep.secret);
        one(st, &p, v)
    })
}

async fn retrieve_endpoint(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    q: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &q, "webhook_endpoint", &id, "id", |st| {
        st.endpoints
            .iter()
            .find(|e| e.id == id)
            .map(objects::endpoint)
    })
}

async fn update_endpoint(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    b: Bytes,
) -> ApiResult {
    let p = body(&b)?;
    p.allow(&[
        "url",
        "enabled_events",
        "description",
        "metadata",
        "disabled",
        "expand",
    ])?;
    let events = p.strings("enabled_events")?;
    let disabled = p.bool("disabled")?;
    let metadata = p.metadata("metadata")?;
    sim.with(|st| {
        let ep = st
            .endpoints
            .iter_mut()
            .find(|e| e.id == id)
            .ok_or_else(|| ApiError::missing_resource("webhook_endpoint", &id, "id"))?;
        if let Some(u) = p.str("url").filter(|u| !u.is_empty()) {
            ep.url = u.to_owned();
        }
        if !events.is_empty() {
            ep.enabled_events = events;
        }
        if let Some(d) = disabled {
            ep.enabled = !d;
        }
        if let Some(d) = nullable(&p, "description") {
            ep.description = d;
        }
        merge_metadata(&mut ep.metadata, metadata);
        let v = objects::endpoint(ep);
        one(st, &p, v)
    })
}

async fn delete_endpoint(State(sim): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    sim.with(|st| {
        let before = st.endpoints.len();
        st.endpoints.retain(|e| e.id != id);
        if st.endpoints.len() == before {
            return Err(ApiError::missing_resource("webhook_endpoint", &id, "id"));
        }
        Ok(axum::Json(
            json!({ "id": id, "object": "webhook_endpoint", "deleted": true }),
        ))
    })
}

async fn list_endpoints(State(sim): State<Arc<Shared>>, q: RawQuery) -> ApiResult {
    let p = list_query(&q, &[])?;
    list_page(&sim, &p, "/v1/webhook_endpoints", |st| {
        Ok(st.endpoints.iter().rev().map(objects::endpoint).collect())
    })
}
