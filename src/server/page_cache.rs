//! The anonymous page cache (speed issue, item 1). What a signed-out visitor sees on `/`, `/pricing`,
//! `/login` and `/signup` depends only on the path, the month/year choice and the catalog snapshot,
//! so each such page is rendered once per snapshot and then served from memory.
//!
//! Every response still carries its own CSP nonce: the nonce of the render is cut out of the cached
//! page and of its `Content-Security-Policy`, and a fresh one is put in its place per response.
//! A request that carries our session cookie (signed in, or was) is never served from here, and a
//! render is only kept when it was made without one and set no cookie.

use crate::auth::ssr::SESSION_COOKIE;
use crate::catalog::Catalog;
use crate::catalog::ssr::CatalogStore;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

/// The exact path-and-query forms served from the cache. A fixed list keeps the cache bounded and
/// keeps every other query (`next`, a no-JavaScript form's `__err`) on the normal render.
const CACHEABLE: [&str; 6] = [
    "/",
    "/pricing",
    "/pricing?interval=month",
    "/pricing?interval=year",
    "/login",
    "/signup",
];

/// A cached render is a few KiB; anything larger is not a page this cache is for.
const MAX_PAGE_BYTES: usize = 256 * 1024;

pub struct PageCache {
    catalog: Arc<CatalogStore>,
    pages: RwLock<HashMap<&'static str, Arc<CachedPage>>>,
}

/// One render, split where its nonce was.
struct CachedPage {
    /// The snapshot it was rendered from: a reload swaps the `Arc`, which makes this page stale.
    catalog: Arc<Catalog>,
    headers: HeaderMap,
    body_parts: Vec<Bytes>,
    policy_parts: Vec<String>,
}

impl PageCache {
    pub fn new(catalog: Arc<CatalogStore>) -> Self {
        Self {
            catalog,
            pages: RwLock::default(),
        }
    }

    fn fresh(&self, key: &str) -> Option<Arc<CachedPage>> {
        let page = self
            .pages
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()?;
        Arc::ptr_eq(&page.catalog, &self.catalog.current()).then_some(page)
    }

    fn keep(&self, key: &'static str, page: CachedPage) {
        // Rendered from a snapshot that has been replaced meanwhile: not worth keeping.
        if !Arc::ptr_eq(&page.catalog, &self.catalog.current()) {
            return;
        }
        self.pages
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, Arc::new(page));
    }
}

/// Middleware in front of the pages: serves a cached anonymous page, or renders and keeps one.
pub async fn serve_anonymous_pages(
    State(cache): State<Arc<PageCache>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(key) = cache_key(&request) else {
        return next.run(request).await;
    };
    if let Some(page) = cache.fresh(key) {
        return page.respond(&leptos::nonce::Nonce::new());
    }
    let catalog = cache.catalog.current();
    let response = next.run(request).await;
    if !keepable(&response) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_PAGE_BYTES).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(%error, "rendering a page failed midway");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    if let Some(page) = CachedPage::split(catalog, &parts.headers, &bytes) {
        cache.keep(key, page);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The cache entry a request may be served from: a GET of a listed page without our session cookie.
fn cache_key(request: &Request) -> Option<&'static str> {
    if request.method() != Method::GET || carries_session_cookie(request.headers()) {
        return None;
    }
    let wanted = request.uri().path_and_query()?.as_str();
    CACHEABLE.iter().find(|key| **key == wanted).copied()
}

/// Any cookie named like ours (with or without the `__Host-` prefix), valid or not: such a visitor
/// may be signed in, and only the full render can tell.
fn carries_session_cookie(headers: &HeaderMap) -> bool {
    headers.get_all(header::COOKIE).iter().any(|value| {
        value
            .as_bytes()
            .windows(SESSION_COOKIE.len())
            .any(|w| w == SESSION_COOKIE.as_bytes())
    })
}

fn keepable(response: &Response) -> bool {
    let headers = response.headers();
    response.status() == StatusCode::OK
        && !headers.contains_key(header::SET_COOKIE)
        && headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/html"))
        && headers.contains_key(header::CONTENT_SECURITY_POLICY)
}

/// The nonce a policy allows, as in `script-src … 'nonce-XYZ' …`.
fn nonce_of(policy: &str) -> Option<&str> {
    let start = policy.find("'nonce-")? + "'nonce-".len();
    let len = policy[start..].find('\'')?;
    Some(&policy[start..start + len]).filter(|nonce| !nonce.is_empty())
}

impl CachedPage {
    /// Splits a render at its nonce. `None` when the render has no nonce to replace.
    fn split(catalog: Arc<Catalog>, headers: &HeaderMap, body: &Bytes) -> Option<Self> {
        let policy = headers
            .get(header::CONTENT_SECURITY_POLICY)?
            .to_str()
            .ok()?;
        let nonce = nonce_of(policy)?;
        let mut body_parts = Vec::new();
        let mut rest = body.clone();
        while let Some(at) = find(&rest, nonce.as_bytes()) {
            body_parts.push(rest.slice(..at));
            rest = rest.slice(at + nonce.len()..);
        }
        body_parts.push(rest);
        let mut headers = headers.clone();
        headers.remove(header::CONTENT_SECURITY_POLICY);
        headers.remove(header::CONTENT_LENGTH);
        Some(Self {
            catalog,
            headers,
            body_parts,
            policy_parts: policy.split(nonce).map(str::to_owned).collect(),
        })
    }

    fn respond(&self, nonce: &str) -> Response {
        let body = self.body_parts.join(nonce.as_bytes());
        let policy = self.policy_parts.join(nonce);
        let mut response = Response::new(Body::from(body));
        *response.headers_mut() = self.headers.clone();
        if let Ok(policy) = HeaderValue::from_str(&policy) {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        response
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_page_carries_the_new_nonce_wherever_the_old_one_was() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("script-src 'self' 'nonce-OLD123'"),
        );
        let body = Bytes::from_static(
            b"<script nonce=\"OLD123\">a</script><p>x</p><script nonce=\"OLD123\">b</script>",
        );
        let page = CachedPage::split(Arc::default(), &headers, &body).expect("a nonce");
        let response = page.respond("NEW456");
        assert_eq!(
            response.headers()[header::CONTENT_SECURITY_POLICY],
            "script-src 'self' 'nonce-NEW456'"
        );
        assert_eq!(
            page.body_parts.join(&b"NEW456"[..]),
            b"<script nonce=\"NEW456\">a</script><p>x</p><script nonce=\"NEW456\">b</script>"
        );
    }

    #[test]
    fn a_policy_without_a_nonce_is_not_cached() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("script-src 'self'"),
        );
        assert!(CachedPage::split(Arc::default(), &headers, &Bytes::new()).is_none());
    }

    #[test]
    fn only_listed_pages_without_a_session_cookie_are_cached() {
        let request = |uri: &str, cookie: Option<&str>| {
            let mut builder = Request::get(uri);
            if let Some(cookie) = cookie {
                builder = builder.header(header::COOKIE, cookie);
            }
            builder.body(Body::empty()).expect("a request")
        };
        assert_eq!(
            cache_key(&request("/pricing?interval=year", None)),
            Some("/pricing?interval=year")
        );
        assert_eq!(cache_key(&request("/login?next=/pro", None)), None);
        assert_eq!(cache_key(&request("/pricing?__err=x", None)), None);
        assert_eq!(cache_key(&request("/dashboard", None)), None);
        assert_eq!(
            cache_key(&request("/pricing", Some("theme=dark"))),
            Some("/pricing")
        );
        assert_eq!(
            cache_key(&request("/pricing", Some("a=b; storefront_session=abc"))),
            None
        );
        assert_eq!(
            cache_key(&request("/pricing", Some("__Host-storefront_session=abc"))),
            None
        );
    }
}
