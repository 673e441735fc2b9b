//! The sim's one error type: a Stripe API error (`{"error": {...}}` plus its HTTP status),
//! returned by the domain code as well as by handlers, hosted pages and admin endpoints.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An error rendered as Stripe's `{"error": {...}}` JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub code: Option<String>,
    pub decline_code: Option<&'static str>,
    pub message: String,
    pub param: Option<String>,
    /// Extra keys of the error object: a failed confirm carries `payment_intent` (the intent
    /// as it is now), `payment_method` and `charge`, as on Stripe (see [`ApiError::detail`]).
    pub(crate) details: Option<Box<serde_json::Map<String, Value>>>,
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
            details: None,
        }
    }

    pub(crate) fn with_detail(mut self, key: &str, value: Value) -> Self {
        self.details
            .get_or_insert_default()
            .insert(key.to_owned(), value);
        self
    }

    /// An extra key of the error object, such as `payment_intent` on a declined confirm.
    pub fn detail(&self, key: &str) -> Option<&Value> {
        self.details.as_ref().and_then(|d| d.get(key))
    }

    /// Stripe's `doc_url` for an error code.
    pub(crate) fn with_doc_url(self, code: &str) -> Self {
        let url = format!(
            "https://docs.stripe.com/error-codes/{}",
            code.replace('_', "-")
        );
        self.with_detail("doc_url", json!(url))
    }

    pub(crate) fn with_param(mut self, param: &str) -> Self {
        self.param = Some(param.to_owned());
        self
    }

    pub(crate) fn missing(param: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("parameter_missing"),
            format!("Missing required param: {param}."),
        )
        .with_param(param)
    }

    pub(crate) fn unknown(param: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("parameter_unknown"),
            format!("Received unknown parameter: {param}"),
        )
        .with_param(param)
    }

    pub(crate) fn invalid(param: &str, message: String) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("parameter_invalid"),
            message,
        )
        .with_param(param)
    }

    /// A request that is well-formed but not allowed in the object's current state.
    pub(crate) fn state(message: String) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            message,
        )
    }

    /// A request Stripe refuses with a specific `code` (`amount_too_large`, …).
    pub(crate) fn coded(code: &str, param: Option<&str>, message: String) -> Self {
        let e = Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some(code),
            message,
        );
        match param {
            Some(p) => e.with_param(p),
            None => e,
        }
    }

    pub(crate) fn missing_resource(what: &str, id: &str, param: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("resource_missing"),
            format!("No such {what}: '{id}'"),
        )
        .with_param(param)
    }

    pub(crate) fn not_found_url(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            None,
            format!("Unrecognized request URL (GET: {path})."),
        )
    }

    pub(crate) fn card(code: &str, decline_code: Option<&'static str>, message: &str) -> Self {
        let mut e = Self::new(
            StatusCode::PAYMENT_REQUIRED,
            "card_error",
            Some(code),
            message.to_owned(),
        );
        e.decline_code = decline_code;
        e
    }

    pub(crate) fn unauthorized(message: String) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            message,
        )
    }

    pub(crate) fn idempotency(status: StatusCode, message: &str) -> Self {
        Self::new(status, "idempotency_error", None, message.to_owned())
    }

    pub(crate) fn server(status: StatusCode) -> Self {
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

    pub(crate) fn body(&self) -> Value {
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
        if let (Some(object), Some(details)) = (e.as_object_mut(), &self.details) {
            for (k, v) in details.iter() {
                object.insert(k.clone(), v.clone());
            }
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
