//! Stripe's HTTP conventions around `/v1`: list pages, the API fault switches and
//! `Idempotency-Key` as axum middleware, and reading request parameters (keys are in `auth`).

use std::sync::Arc;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::ApiError;
use crate::form::Params;
use crate::idempotency::Claim;
use crate::render::list_object;
use crate::shared::Shared;

/// Largest request body the sim accepts (Stripe's own limit is far larger than anything we send).
pub(crate) const MAX_BODY: usize = 1 << 20;

pub(crate) type ApiResult = Result<axum::Json<Value>, ApiError>;

/// Pagination parameters shared by every list endpoint.
pub(crate) struct Page {
    pub(crate) limit: usize,
    pub(crate) starting_after: Option<String>,
    pub(crate) ending_before: Option<String>,
}

impl Page {
    pub(crate) const KEYS: [&'static str; 4] =
        ["limit", "starting_after", "ending_before", "expand"];

    pub(crate) fn from(params: &Params) -> Result<Self, ApiError> {
        let limit = params.i64("limit")?.unwrap_or(10);
        if !(1..=100).contains(&limit) {
            return Err(ApiError::invalid(
                "limit",
                format!("Invalid integer: {limit}. Must be between 1 and 100."),
            ));
        }
        Ok(Self {
            limit: usize::try_from(limit).unwrap_or(10),
            starting_after: params.str("starting_after").map(str::to_owned),
            ending_before: params.str("ending_before").map(str::to_owned),
        })
    }

    /// Cuts `items` (already newest first, each with an `id`) into one page as a Stripe list.
    pub(crate) fn list(&self, items: Vec<Value>, url: &str) -> Result<Value, ApiError> {
        let pos = |id: &str, param: &str| {
            items
                .iter()
                .position(|v| v["id"] == id)
                .ok_or_else(|| ApiError::missing_resource("object", id, param))
        };
        let (data, has_more) = if let Some(after) = &self.starting_after {
            let start = pos(after, "starting_after")? + 1;
            let rest = &items[start..];
            (
                rest.iter().take(self.limit).cloned().collect::<Vec<_>>(),
                rest.len() > self.limit,
            )
        } else if let Some(before) = &self.ending_before {
            let end = pos(before, "ending_before")?;
            let head = &items[..end];
            let from = head.len().saturating_sub(self.limit);
            (head[from..].to_vec(), from > 0)
        } else {
            (
                items.iter().take(self.limit).cloned().collect(),
                items.len() > self.limit,
            )
        };
        Ok(list_object(data, has_more, url))
    }
}

/// The API gate (a held call waits for the test's release), then per-call latency and injected
/// 5xx/429 answers (429 with `Retry-After`), before anything else runs.
pub(crate) async fn api_faults(
    State(sim): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    sim.count_api_request();
    if let Some(gate) = sim.faults_mut(|f| f.take_api_gate()) {
        tracing::info!(path = %req.uri().path(), "fault: API call held at the gate");
        tokio::select! {
            () = gate.released() => {}
            () = sim.shutdown_signal() => {}
        }
    }
    let (latency, forced) = sim.faults_mut(|f| f.take_api_fault());
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(fault) = forced {
        let status = fault.status;
        tracing::info!(path = %req.uri().path(), %status, "fault: forced API error");
        // `ApiError` already adds `Stripe-Should-Retry: true` (5xx and 429); a rate limit also
        // says how long to back off, so clients that honour it can be tested.
        let mut response = ApiError::server(status).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(fault.retry_after));
        }
        return response;
    }
    next.run(req).await
}

/// Same key + same request → the stored response; same key + different request → 400;
/// a concurrent duplicate → 409, as Stripe does. Validation errors (400) are not stored.
pub(crate) async fn idempotency(
    State(sim): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let key = request
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(key) = key.filter(|_| request.method() == Method::POST) else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return ApiError::invalid("body", "Request body too large".to_owned()).into_response();
    };
    let fingerprint = format!(
        "{} {}\n{}",
        parts.method,
        parts.uri.path(),
        String::from_utf8_lossy(&bytes)
    );
    match sim.idem(|store| store.claim(&key, &fingerprint)) {
        Claim::Fresh => {}
        Claim::Replay { status, body } => return replay(status, body),
        Claim::InFlight => return in_flight().into_response(),
        Claim::Mismatch => return mismatch(&key).into_response(),
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    sim.idem(|store| store.settle(key, fingerprint, parts.status, body.clone()));
    Response::from_parts(parts, Body::from(body))
}

/// The stored answer to an idempotent request, marked as replayed.
fn replay(status: StatusCode, body: Bytes) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

fn in_flight() -> ApiError {
    ApiError::idempotency(
        StatusCode::CONFLICT,
        "There is currently another in-progress request using this Stripe-Idempotency-Key. Please try again later.",
    )
}

fn mismatch(key: &str) -> ApiError {
    ApiError::idempotency(
        StatusCode::BAD_REQUEST,
        &format!(
            "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
        ),
    )
}

/// Reads a form body or query string, rejecting non-UTF-8 input with Stripe's error shape.
pub(crate) fn params(raw: &[u8]) -> Result<Params, ApiError> {
    let s = std::str::from_utf8(raw)
        .map_err(|_| ApiError::invalid("body", "Request body must be UTF-8".to_owned()))?;
    Params::parse(s)
}

/// The parameters of a `/_sim` admin request: a form or JSON body, or the query string when the
/// body is empty.
pub(crate) struct AdminParams(pub(crate) Params);

impl<S: Send + Sync> FromRequest<S> for AdminParams {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let headers = request.headers().clone();
        let query = request.uri().query().map(str::to_owned);
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|e| ApiError::invalid("body", e.to_string()))?;
        admin_params(&headers, &body, query.as_deref()).map(Self)
    }
}

/// Admin endpoints take a form body, a JSON object or a query string.
fn admin_params(
    headers: &axum::http::HeaderMap,
    body: &[u8],
    query: Option<&str>,
) -> Result<Params, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if is_json && !body.is_empty() {
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::invalid("body", format!("Invalid JSON: {e}")))?;
        return Params::from_json(&v);
    }
    if body.is_empty() {
        return Params::parse(query.unwrap_or(""));
    }
    params(body)
}
