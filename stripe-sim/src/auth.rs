//! Who is calling `/v1`: the API key (an `Authorization` header, or the `key` parameter that
//! Stripe.js sends), the secret/publishable key rule, and CORS for publishable-key calls from
//! a browser page on another origin.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::http::MAX_BODY;

/// Which kind of test key authenticated a `/v1` request (a request extension, so handlers
/// such as confirm can require the `client_secret` from publishable keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Secret,
    Publishable,
}

/// The key a request presented, found by [`keys`] before anything else runs (a request
/// extension read by [`auth`]). `in_param`: it came as the `key` parameter, not a header.
#[derive(Debug, Clone, Default)]
struct Presented {
    key: Option<String>,
    in_param: bool,
}

fn test_key(key: &str, prefix: &str) -> bool {
    key.starts_with(prefix) && key.len() > prefix.len()
}

/// The three calls Stripe.js makes with a publishable key: creating a PaymentMethod,
/// confirming a PaymentIntent and retrieving one (both with its `client_secret`); `path` with
/// or without the `/v1` prefix.
pub(crate) fn publishable_allowed(method: &Method, path: &str) -> bool {
    let path = path.strip_prefix("/v1").unwrap_or(path);
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["payment_methods"] | ["payment_intents", _, "confirm"] => *method == Method::POST,
        ["payment_intents", id] => *method == Method::GET && !id.is_empty(),
        _ => false,
    }
}

/// Outermost `/v1` layer. Finds the key (an `Authorization` header wins; without one, the
/// `key` parameter of the query or form body, which it removes so that handlers, unknown
/// parameter checks and `Idempotency-Key` fingerprints never see it). Answers CORS preflights
/// for the publishable-key calls and lets any origin read publishable-key answers, as
/// api.stripe.com does: a page's script reaches the API from its own origin.
pub(crate) async fn keys(req: Request, next: Next) -> Response {
    if req.method() == Method::OPTIONS
        && let Some(response) = preflight(&req)
    {
        return response;
    }
    let (mut req, presented) = match take_key(req).await {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let cors = presented
        .key
        .as_deref()
        .is_some_and(|k| k.starts_with("pk_"));
    req.extensions_mut().insert(presented);
    let mut response = next.run(req).await;
    if cors {
        response.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    response
}

/// A preflight for a call a publishable key may make. Stripe.js itself never needs one (its
/// form posts without custom headers are "simple" requests), but a page using `fetch` with an
/// `Authorization` header does. Other preflights fall through to the usual 401.
fn preflight(req: &Request) -> Option<Response> {
    let asked = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)?
        .to_str()
        .ok()?;
    let method = Method::from_bytes(asked.as_bytes()).ok()?;
    if !publishable_allowed(&method, req.uri().path()) {
        return None;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    let pairs = [
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"),
        (
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "Authorization, Content-Type, Idempotency-Key, Stripe-Version",
        ),
        (header::ACCESS_CONTROL_MAX_AGE, "600"),
    ];
    for (name, value) in pairs {
        headers.insert(name, HeaderValue::from_static(value));
    }
    Some(response)
}

/// The request without its `key` parameter, and the key it presented.
async fn take_key(req: Request) -> Result<(Request, Presented), ApiError> {
    if let Some(key) = header_key(req.headers()) {
        let presented = Presented {
            key: Some(key),
            in_param: false,
        };
        return Ok((req, presented));
    }
    let (mut parts, body) = req.into_parts();
    let (query, from_query) = strip_key(parts.uri.query().unwrap_or(""));
    if let Some(key) = from_query {
        let mut uri = parts.uri.path().to_owned();
        if !query.is_empty() {
            uri = format!("{uri}?{query}");
        }
        parts.uri = uri
            .parse()
            .map_err(|_| ApiError::invalid("key", "Invalid request URL".to_owned()))?;
        let presented = Presented {
            key: Some(key),
            in_param: true,
        };
        return Ok((Request::from_parts(parts, body), presented));
    }
    if parts.method != Method::POST {
        return Ok((Request::from_parts(parts, body), Presented::default()));
    }
    let bytes = to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::invalid("body", "Request body too large".to_owned()))?;
    let raw = String::from_utf8_lossy(&bytes);
    let (rest, from_body) = strip_key(&raw);
    let (body, presented) = match from_body {
        Some(key) => (
            Body::from(rest),
            Presented {
                key: Some(key),
                in_param: true,
            },
        ),
        None => (Body::from(bytes), Presented::default()),
    };
    Ok((Request::from_parts(parts, body), presented))
}

/// Splits `key=…` off a form-encoded string, keeping every other pair byte for byte.
fn strip_key(raw: &str) -> (String, Option<String>) {
    let mut key = None;
    let mut kept = Vec::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        match form_urlencoded::parse(pair.as_bytes()).next() {
            Some((name, value)) if name == "key" => key = Some(value.into_owned()),
            _ => kept.push(pair),
        }
    }
    (kept.join("&"), key)
}

/// Test-mode keys only. Secret keys (`sk_test_…`) reach everything, from the `Authorization`
/// header; publishable keys (`pk_test_…`, header or `key` parameter) only what
/// [`publishable_allowed`] lists.
pub(crate) async fn auth(mut req: Request, next: Next) -> Response {
    let presented = req
        .extensions()
        .get::<Presented>()
        .cloned()
        .unwrap_or_default();
    let kind = match presented.key.as_deref() {
        Some(k) if test_key(k, "sk_test_") && presented.in_param => {
            return ApiError::unauthorized(
                "stripe-sim takes only publishable keys (pk_test_…) in the `key` parameter, as Stripe.js sends them. Send a secret key in the Authorization header."
                    .to_owned(),
            )
            .into_response();
        }
        Some(k) if test_key(k, "sk_test_") => KeyKind::Secret,
        Some(k) if test_key(k, "pk_test_") => {
            if !publishable_allowed(req.method(), req.uri().path()) {
                return ApiError::unauthorized(
                    "This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."
                        .to_owned(),
                )
                .into_response();
            }
            KeyKind::Publishable
        }
        Some(k) => {
            return ApiError::unauthorized(format!(
                "Invalid API Key provided: {}",
                k.chars().take(12).collect::<String>()
            ))
            .into_response();
        }
        None => return ApiError::unauthorized(
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
                .to_owned(),
        )
        .into_response(),
    };
    req.extensions_mut().insert(kind);
    next.run(req).await
}

/// The key of a Bearer `Authorization` header (what the client libraries send) or of HTTP
/// Basic with the key as user name and no password (what `curl -u sk_test_…:` sends, as in
/// every example of Stripe's API reference).
fn header_key(headers: &HeaderMap) -> Option<String> {
    use base64::Engine;
    let header = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    if let Some(key) = header.strip_prefix("Bearer ") {
        return Some(key.trim().to_owned());
    }
    let encoded = header.strip_prefix("Basic ")?.trim();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let user_and_password = String::from_utf8(decoded).ok()?;
    let (user, _password) = user_and_password
        .split_once(':')
        .unwrap_or((&user_and_password, ""));
    Some(user.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishable_keys_reach_only_stripe_js_calls() {
        assert!(publishable_allowed(&Method::POST, "/payment_methods"));
        assert!(publishable_allowed(
            &Method::POST,
            "/v1/payment_intents/pi_1/confirm"
        ));
        assert!(publishable_allowed(
            &Method::GET,
            "/v1/payment_intents/pi_1"
        ));
        assert!(!publishable_allowed(&Method::GET, "/payment_intents"));
        assert!(!publishable_allowed(&Method::GET, "/payment_intents/"));
        assert!(!publishable_allowed(&Method::GET, "/payment_methods"));
        assert!(!publishable_allowed(&Method::POST, "/payment_intents"));
        assert!(!publishable_allowed(&Method::POST, "/payment_intents/pi_1"));
        assert!(!publishable_allowed(
            &Method::POST,
            "/payment_intents/pi_1/cancel"
        ));
        assert!(!publishable_allowed(&Method::GET, "/payment_methods/pm_1"));
    }

    #[test]
    fn strips_only_the_key_pair() {
        let (rest, key) = strip_key("type=card&key=pk_test_1&card%5Bnumber%5D=4242&keys=x");
        assert_eq!(key.as_deref(), Some("pk_test_1"));
        assert_eq!(rest, "type=card&card%5Bnumber%5D=4242&keys=x");
        assert_eq!(strip_key("a=1"), ("a=1".to_owned(), None));
        assert_eq!(strip_key(""), (String::new(), None));
    }
}
