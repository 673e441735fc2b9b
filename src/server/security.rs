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
/// when those name another site. A request with none of them is a script's (curl) or a very old
/// browser's: it passes only without our session cookie, so no old browser can be made to act for
/// its signed-in user (security review L8).
pub async fn refuse_cross_site_posts(
    State(allowed): State<Arc<AllowedOrigins>>,
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
    let headers = request.headers();
    let passes = match same_origin(headers, &allowed) {
        Some(same) => same,
        None => !carries_session_cookie(headers),
    };
    if passes {
        next.run(request).await
    } else {
        tracing::warn!(path, "cross-site POST refused");
        AppError::CrossSite.into_response()
    }
}

/// The origins a form of ours is posted from: `APP_URL`'s, and in development (a loopback `APP_URL`)
/// the same scheme and port under the other loopback names, since a browser may use either. Never
/// the request's own `Host`, which a proxy may pass through from anyone.
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    pub fn for_app(app_url: &url::Url) -> Self {
        let origin = app_url.origin().ascii_serialization();
        let mut origins = vec![origin];
        let loopback = ["127.0.0.1", "localhost", "[::1]"];
        if let Some(host) = app_url.host_str()
            && loopback.contains(&host)
        {
            let port = app_url.port().map(|p| format!(":{p}")).unwrap_or_default();
            for alias in loopback {
                origins.push(format!("{}://{alias}{port}", app_url.scheme()));
            }
        }
        Self(origins)
    }

    fn contains(&self, origin: &str) -> bool {
        self.0.iter().any(|allowed| allowed == origin)
    }
}

/// Whether the request names our origin; None when it names no origin at all.
fn same_origin(headers: &HeaderMap, allowed: &AllowedOrigins) -> Option<bool> {
    let get = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let fetch_site = get("sec-fetch-site");
    if fetch_site.is_some_and(|site| site != "same-origin" && site != "none") {
        return Some(false);
    }
    if let Some(origin) = get(header::ORIGIN.as_str()) {
        return Some(allowed.contains(origin));
    }
    if let Some(referer) = get(header::REFERER.as_str()) {
        let origin = url::Url::parse(referer)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        return Some(allowed.contains(&origin));
    }
    // `Sec-Fetch-Site: same-origin` or `none` (typed in the address bar) from a modern browser.
    fetch_site.map(|_| true)
}

fn carries_session_cookie(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|cookie| cookie.trim().split_once('='))
        .any(|(name, _)| {
            name == crate::auth::ssr::SESSION_COOKIE
                || name == crate::auth::ssr::HOST_ONLY_SESSION_COOKIE
        })
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
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
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

    fn app() -> AllowedOrigins {
        AllowedOrigins::for_app(&url::Url::parse("http://127.0.0.1:3000").expect("url"))
    }

    #[test]
    fn same_origin_passes_and_other_sites_do_not() {
        let app = app();
        let app = &app;
        assert_eq!(
            Some(true),
            same_origin(&headers(&[("origin", "http://127.0.0.1:3000")]), app)
        );
        assert_eq!(
            Some(true),
            same_origin(
                &headers(&[
                    ("origin", "http://localhost:3000"),
                    ("host", "localhost:3000")
                ]),
                app
            )
        );
        assert_eq!(
            Some(false),
            same_origin(&headers(&[("origin", "https://evil.example")]), app)
        );
        assert_eq!(
            Some(false),
            same_origin(&headers(&[("origin", "null")]), app)
        );
        assert_eq!(
            Some(false),
            same_origin(&headers(&[("referer", "https://evil.example/x")]), app)
        );
        assert_eq!(
            Some(true),
            same_origin(&headers(&[("referer", "http://127.0.0.1:3000/login")]), app)
        );
        assert_eq!(
            Some(false),
            same_origin(
                &headers(&[
                    ("origin", "http://127.0.0.1:3000"),
                    ("sec-fetch-site", "cross-site")
                ]),
                app
            )
        );
        assert_eq!(same_origin(&headers(&[]), app), None);
    }

    /// Security review L8: a POST naming no origin passes only without our session cookie.
    #[test]
    fn l8_a_headerless_post_with_the_session_cookie_is_not_trusted() {
        assert!(!carries_session_cookie(&headers(&[(
            "cookie",
            "theme=dark"
        )])));
        assert!(carries_session_cookie(&headers(&[(
            "cookie",
            "theme=dark; storefront_session=abc"
        )])));
        assert!(carries_session_cookie(&headers(&[(
            "cookie",
            "__Host-storefront_session=abc"
        )])));
    }
}

#[cfg(test)]
mod origin_tests {
    use super::*;

    #[test]
    fn l8_only_app_url_counts_and_loopback_names_only_in_development() {
        let production =
            AllowedOrigins::for_app(&url::Url::parse("https://shop.example.com/").expect("url"));
        assert!(production.contains("https://shop.example.com"));
        assert!(!production.contains("http://localhost"));
        let development =
            AllowedOrigins::for_app(&url::Url::parse("http://127.0.0.1:3000").expect("url"));
        assert!(development.contains("http://localhost:3000"));
        assert!(!development.contains("http://localhost:3001"));
    }
}
