//! Request guards: cross-site POST refusal and security headers.

use crate::error::AppError;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Paths whose POSTs come from other sites by design (Stripe's webhook deliveries carry no Origin
/// and are authenticated by their signature instead).
const CROSS_SITE_ALLOWED: &[&str] = &[crate::webhooks::WEBHOOK_PATH];

/// Refuses state-changing requests to `/api/` that a browser marks as coming from another site.
///
/// Browsers send `Origin` (and `Sec-Fetch-Site`) with every cross-site POST, so a request is refused
/// when those name another site. A request with neither (curl, scripts) is not a browser request
/// and cannot carry a victim's cookies by accident, so it passes.
pub async fn refuse_cross_site_posts(
    State(app_origin): State<Arc<str>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let safe_method = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe_method || !path.starts_with("/api/") || CROSS_SITE_ALLOWED.contains(&path) {
        return next.run(request).await;
    }
    if is_same_origin(request.headers(), &app_origin) {
        next.run(request).await
    } else {
        tracing::warn!(path, "cross-site POST refused");
        AppError::CrossSite.into_response()
    }
}

fn is_same_origin(headers: &HeaderMap, app_origin: &str) -> bool {
    let get = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if get("sec-fetch-site").is_some_and(|site| site != "same-origin" && site != "none") {
        return false;
    }
    // The origin the browser is actually talking to, in case it reached us under another name than
    // APP_URL (localhost vs 127.0.0.1 in development).
    let host_origin = get(header::HOST.as_str()).map(|host| {
        let scheme = app_origin.split("://").next().unwrap_or("http");
        format!("{scheme}://{host}")
    });
    let matches = |origin: &str| origin == app_origin || host_origin.as_deref() == Some(origin);
    if let Some(origin) = get(header::ORIGIN.as_str()) {
        return matches(origin);
    }
    if let Some(referer) = get(header::REFERER.as_str()) {
        let origin = url::Url::parse(referer)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        return matches(&origin);
    }
    true
}

/// Headers for every response. The Content-Security-Policy is set per page by the shell, because it
/// carries the nonce of that page's inline hydration script.
pub fn security_headers(https: bool) -> Vec<(header::HeaderName, HeaderValue)> {
    let mut headers = vec![
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
        (
            header::HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(
                "camera=(), microphone=(), geolocation=(), interest-cohort=()",
            ),
        ),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    if https {
        headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    headers
}

pub async fn add_security_headers(
    State(headers): State<Arc<Vec<(header::HeaderName, HeaderValue)>>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    for (name, value) in headers.iter() {
        response
            .headers_mut()
            .entry(name.clone())
            .or_insert_with(|| value.clone());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    const APP: &str = "http://127.0.0.1:3000";

    #[test]
    fn same_origin_passes_and_other_sites_do_not() {
        assert!(is_same_origin(&headers(&[("origin", APP)]), APP));
        assert!(is_same_origin(
            &headers(&[
                ("origin", "http://localhost:3000"),
                ("host", "localhost:3000")
            ]),
            APP
        ));
        assert!(!is_same_origin(
            &headers(&[("origin", "https://evil.example")]),
            APP
        ));
        assert!(!is_same_origin(&headers(&[("origin", "null")]), APP));
        assert!(!is_same_origin(
            &headers(&[("referer", "https://evil.example/x")]),
            APP
        ));
        assert!(is_same_origin(
            &headers(&[("referer", "http://127.0.0.1:3000/login")]),
            APP
        ));
        assert!(!is_same_origin(
            &headers(&[("origin", APP), ("sec-fetch-site", "cross-site")]),
            APP
        ));
        assert!(is_same_origin(&headers(&[]), APP));
    }
}
