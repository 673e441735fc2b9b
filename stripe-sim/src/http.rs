//! Stripe's HTTP conventions: error JSON, list objects, Bearer auth, `Idempotency-Key` and the
//! API fault switches, as axum middleware around `/v1`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::Shared;
use crate::form::Params;

/// Largest request body the sim accepts (Stripe's own limit is far larger than anything we send).
const MAX_BODY: usize = 1 << 20;

/// An error rendered as Stripe's `{"error": {...}}` JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub code: Option<String>,
    pub decline_code: Option<String>,
    pub message: String,
    pub param: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, code: Option<&str>, message: String) -> Self {
        Self {
            status,
            kind,
            code: code.map(str::to_owned),
            decline_code: None,
            message,
            param: None,
        }
    }

    fn with_param(mut self, param: &str) -> Self {
        self.param = Some(param.to_owned());
        self
    }

    pub fn missing(param: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("parameter_missing"),
            format!("Missing required param: {param}."),
        )
        .with_param(param)
    }

    pub fn unknown(param: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("parameter_unknown"),
            format!("Received unknown parameter: {param}"),
        )
        .with_param(param)
    }

    pub fn invalid(param: &str, message: String) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("parameter_invalid"),
            message,
        )
        .with_param(param)
    }

    /// A request that is well-formed but not allowed in the object's current state.
    pub fn state(message: String) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            message,
        )
    }

    pub fn missing_resource(what: &str, id: &str, param: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("resource_missing"),
            format!("No such {what}: '{id}'"),
        )
        .with_param(param)
    }

    pub fn not_found_url(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            None,
            format!("Unrecognized request URL (GET: {path})."),
        )
    }

    pub fn card(code: &str, decline_code: Option<&str>, message: &str) -> Self {
        let mut e = Self::new(
            StatusCode::PAYMENT_REQUIRED,
            "card_error",
            Some(code),
            message.to_owned(),
        );
        e.decline_code = decline_code.map(str::to_owned);
        e
    }

    pub fn unauthorized(message: String) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            message,
        )
    }

    pub fn idempotency(status: StatusCode, message: &str) -> Self {
        Self::new(status, "idempotency_error", None, message.to_owned())
    }

    pub fn server(status: StatusCode) -> Self {
        if status == StatusCode::TOO_MANY_REQUESTS {
            Self::new(
                status,
                "invalid_request_error",
                Some("rate_limit"),
                "Too many requests hit the API too quickly (simulated).".to_owned(),
            )
        } else {
            Self::new(
                status,
                "api_error",
                None,
                "An unknown error occurred (simulated fault).".to_owned(),
            )
        }
    }

    pub fn body(&self) -> Value {
        let mut e = json!({ "type": self.kind, "message": self.message });
        if let Some(code) = &self.code {
            e["code"] = json!(code);
        }
        if let Some(d) = &self.decline_code {
            e["decline_code"] = json!(d);
        }
        if let Some(p) = &self.param {
            e["param"] = json!(p);
        }
        json!({ "error": e })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(self.body())).into_response();
        // Stripe tells clients whether a retry can help; async-stripe honours this header.
        let retry = self.status.is_server_error() || self.status == StatusCode::TOO_MANY_REQUESTS;
        resp.headers_mut().insert(
            "stripe-should-retry",
            HeaderValue::from_static(if retry { "true" } else { "false" }),
        );
        resp
    }
}

pub type ApiResult = Result<axum::Json<Value>, ApiError>;

/// Pagination parameters shared by every list endpoint.
pub struct Page {
    pub limit: usize,
    pub starting_after: Option<String>,
    pub ending_before: Option<String>,
}

impl Page {
    pub const KEYS: [&'static str; 4] = ["limit", "starting_after", "ending_before", "expand"];

    pub fn from(p: &Params) -> Result<Self, ApiError> {
        let limit = p.i64("limit")?.unwrap_or(10);
        if !(1..=100).contains(&limit) {
            return Err(ApiError::invalid(
                "limit",
                format!("Invalid integer: {limit}. Must be between 1 and 100."),
            ));
        }
        Ok(Self {
            limit: usize::try_from(limit).unwrap_or(10),
            starting_after: p.str("starting_after").map(str::to_owned),
            ending_before: p.str("ending_before").map(str::to_owned),
        })
    }

    /// Cuts `items` (already newest first, each with an `id`) into one page as a Stripe list.
    pub fn list(&self, items: Vec<Value>, url: &str) -> Result<Value, ApiError> {
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

pub fn list_object(data: Vec<Value>, has_more: bool, url: &str) -> Value {
    json!({ "object": "list", "data": data, "has_more": has_more, "url": url })
}

/// `Authorization: Bearer sk_test_…` is the only accepted credential, like a test-mode account.
pub async fn auth(req: Request, next: Next) -> Response {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let key = header
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim);
    match key {
        Some(k) if k.starts_with("sk_test_") && k.len() > "sk_test_".len() => next.run(req).await,
        Some(k) => ApiError::unauthorized(format!(
            "Invalid API Key provided: {}",
            k.chars().take(12).collect::<String>()
        ))
        .into_response(),
        None => ApiError::unauthorized(
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
                .to_owned(),
        )
        .into_response(),
    }
}

/// Per-call latency and injected 500/429 answers, before anything else runs.
pub async fn api_faults(State(sim): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let (latency, forced) = sim.faults_mut(|f| f.take_api_fault());
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(status) = forced {
        tracing::info!(path = %req.uri().path(), %status, "fault: forced API error");
        return ApiError::server(status).into_response();
    }
    next.run(req).await
}

/// A stored idempotent result, or a marker that the first request is still running.
#[derive(Debug, Clone)]
pub enum Idem {
    InFlight {
        fingerprint: String,
    },
    Done {
        fingerprint: String,
        status: StatusCode,
        body: Bytes,
    },
}

pub type IdemStore = HashMap<String, Idem>;

/// Same key + same request → the stored response; same key + different request → 400;
/// a concurrent duplicate → 409, as Stripe does. Validation errors (400) are not stored.
pub async fn idempotency(State(sim): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(key) = key.filter(|_| req.method() == Method::POST) else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return ApiError::invalid("body", "Request body too large".to_owned()).into_response();
    };
    let fingerprint = format!(
        "{} {}\n{}",
        parts.method,
        parts.uri.path(),
        String::from_utf8_lossy(&bytes)
    );
    let existing = sim.idem(|store| match store.get(&key) {
        None => {
            store.insert(
                key.clone(),
                Idem::InFlight {
                    fingerprint: fingerprint.clone(),
                },
            );
            None
        }
        Some(e) => Some(e.clone()),
    });
    match existing {
        Some(Idem::Done {
            fingerprint: f,
            status,
            body,
        }) if f == fingerprint => {
            let mut resp = (status, body).into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.insert("idempotent-replayed", HeaderValue::from_static("true"));
            return resp;
        }
        Some(Idem::InFlight { fingerprint: f }) if f == fingerprint => {
            return ApiError::idempotency(
                StatusCode::CONFLICT,
                "There is currently another in-progress request using this Stripe-Idempotency-Key. Please try again later.",
            )
            .into_response();
        }
        Some(_) => {
            return ApiError::idempotency(
                StatusCode::BAD_REQUEST,
                &format!(
                    "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
                ),
            )
            .into_response();
        }
        None => {}
    }
    let resp = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (rparts, rbody) = resp.into_parts();
    let rbytes = to_bytes(rbody, usize::MAX).await.unwrap_or_default();
    let status = rparts.status;
    let keep = status.is_success() || status == StatusCode::PAYMENT_REQUIRED;
    sim.idem(|store| {
        if keep {
            store.insert(
                key.clone(),
                Idem::Done {
                    fingerprint,
                    status,
                    body: rbytes.clone(),
                },
            );
        } else {
            store.remove(&key);
        }
    });
    Response::from_parts(rparts, Body::from(rbytes))
}

/// Reads a form body or query string, rejecting non-UTF-8 input with Stripe's error shape.
pub fn params(raw: &[u8]) -> Result<Params, ApiError> {
    let s = std::str::from_utf8(raw)
        .map_err(|_| ApiError::invalid("body", "Request body must be UTF-8".to_owned()))?;
    Params::parse(s)
}

/// Admin endpoints take a form body, a JSON object or a query string.
pub fn admin_params(
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
