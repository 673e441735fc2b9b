//! The page cache (docs/BENCHMARKS.md). What a signed-out visitor sees on `/`, `/pricing`,
//! `/login` and `/signup` depends only on the path, the month/year choice and the catalog snapshot,
//! so each such page is rendered once per snapshot and then served from memory. A signed-in user's
//! `/dashboard`, `/pricing` and `/pro` depend on that and on the user's own rows, so they are kept
//! per user while the catalog snapshot, the user (as read for this request, access end applied) and
//! `AuthCache::user_epoch` (bumped by every change to any user's rows, here or on another instance)
//! are all unchanged.
//!
//! Every response still carries its own CSP nonce: the nonce of the render is cut out of the cached
//! page and of its `Content-Security-Policy`, and a fresh one is put in its place per response.
//! A request that carries our session cookie is never served an anonymous page, and a render is
//! only kept when it answered 200 with HTML and set no cookie.

use crate::auth::User;
use crate::auth::ssr::{AuthCache, SESSION_COOKIE};
use crate::catalog::Catalog;
use crate::catalog::ssr::CatalogStore;
use crate::domain::UserId;
use crate::shop::ssr::CartCount;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The exact path-and-query forms served from the cache, declared with the route table. A fixed
/// list keeps the cache bounded and keeps every other query (`next`, a no-JavaScript form's `__err`)
/// on the normal render.
const ANONYMOUS_PAGES: &[&str] = crate::app::CACHED_FOR_ANONYMOUS;
const SIGNED_IN_PAGES: &[&str] = crate::app::CACHED_PER_USER;
/// Signed-in pages kept at most (a few KiB each); the least recently used go first.
const SIGNED_IN_CAPACITY: usize = 512;

/// A cached render is a few KiB; anything larger is not a page this cache is for.
const MAX_PAGE_BYTES: usize = 256 * 1024;

pub struct PageCache<K> {
    catalog: Arc<CatalogStore>,
    auth: Arc<AuthCache>,
    pages: quick_cache::sync::Cache<K, Arc<CachedPage>>,
}

pub type AnonymousPages = PageCache<&'static str>;
pub type SignedInPages = PageCache<(UserId, &'static str)>;

/// What a render depended on besides its key; a page is served only while all of it is unchanged.
#[derive(Clone)]
struct Basis {
    /// A reload swaps the snapshot's `Arc`.
    catalog: Arc<Catalog>,
    /// For a signed-in page: the user as this request read it, and the user epoch.
    user: Option<(User, u64)>,
}

impl Basis {
    fn same_as(&self, other: &Basis) -> bool {
        Arc::ptr_eq(&self.catalog, &other.catalog) && self.user == other.user
    }
}

/// A kept render is served for at most this long, like the session and user caches' entries: whatever
/// its basis misses (security review 2, L6) is stale for no longer.
const MAX_PAGE_AGE: Duration = Duration::from_secs(60);

/// One render, split where its nonce was.
struct CachedPage {
    basis: Basis,
    kept_at: Instant,
    headers: HeaderMap,
    body_parts: Vec<Bytes>,
    policy_parts: Vec<String>,
}

impl<K: Eq + Hash + Clone> PageCache<K> {
    pub fn new(catalog: Arc<CatalogStore>, auth: Arc<AuthCache>, capacity: usize) -> Self {
        Self {
            catalog,
            auth,
            pages: quick_cache::sync::Cache::new(capacity),
        }
    }

    fn basis(&self, user: Option<&User>) -> Basis {
        Basis {
            catalog: self.catalog.current(),
            user: user.map(|user| (user.clone(), self.auth.user_epoch())),
        }
    }

    /// Serves the page for `key` from memory, or renders it and keeps the render.
    async fn serve(&self, key: K, user: Option<&User>, request: Request, next: Next) -> Response {
        let basis = self.basis(user);
        if let Some(page) = self
            .pages
            .get(&key)
            .filter(|page| page.basis.same_as(&basis) && page.kept_at.elapsed() < MAX_PAGE_AGE)
        {
            return page.respond(&leptos::nonce::Nonce::new());
        }
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
        // Kept only if nothing it depended on changed while it rendered.
        if let Some(page) = CachedPage::split(basis, &parts.headers, &bytes)
            && page.basis.same_as(&self.basis(user))
        {
            self.pages.insert(key, Arc::new(page));
        }
        Response::from_parts(parts, Body::from(bytes))
    }
}

impl AnonymousPages {
    pub fn anonymous(catalog: Arc<CatalogStore>, auth: Arc<AuthCache>) -> Self {
        Self::new(catalog, auth, ANONYMOUS_PAGES.len())
    }
}

impl SignedInPages {
    pub fn signed_in(catalog: Arc<CatalogStore>, auth: Arc<AuthCache>) -> Self {
        Self::new(catalog, auth, SIGNED_IN_CAPACITY)
    }
}

/// Middleware in front of the session layer: anonymous pages without touching the session.
pub async fn serve_anonymous_pages(
    State(cache): State<Arc<AnonymousPages>>,
    request: Request,
    next: Next,
) -> Response {
    match anonymous_key(&request) {
        Some(key) => cache.serve(key, None, request, next).await,
        None => next.run(request).await,
    }
}

/// Middleware behind `load_current_user`: a signed-in user's own pages.
pub async fn serve_signed_in_pages(
    State(cache): State<Arc<SignedInPages>>,
    request: Request,
    next: Next,
) -> Response {
    let user = request.extensions().get::<User>().cloned();
    // The header shows the cart's count, which the cached page does not follow.
    let has_cart = request
        .extensions()
        .get::<CartCount>()
        .is_some_and(|count| count.0 > 0);
    match (user.filter(|_| !has_cart), signed_in_key(&request)) {
        (Some(user), Some(path)) => {
            cache
                .serve((user.id, path), Some(&user), request, next)
                .await
        }
        _ => next.run(request).await,
    }
}

/// The cache entry a request may be served from: a GET of a listed page without our session cookie.
fn anonymous_key(request: &Request) -> Option<&'static str> {
    if request.method() != Method::GET || carries_session_cookie(request.headers()) {
        return None;
    }
    let wanted = request.uri().path_and_query()?.as_str();
    ANONYMOUS_PAGES.iter().find(|key| **key == wanted).copied()
}

fn signed_in_key(request: &Request) -> Option<&'static str> {
    if request.method() != Method::GET {
        return None;
    }
    let wanted = request.uri().path_and_query()?.as_str();
    SIGNED_IN_PAGES.iter().find(|key| **key == wanted).copied()
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
    fn split(basis: Basis, headers: &HeaderMap, body: &Bytes) -> Option<Self> {
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
            basis,
            kept_at: Instant::now(),
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

    fn basis() -> Basis {
        Basis {
            catalog: Arc::default(),
            user: None,
        }
    }

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
        let page = CachedPage::split(basis(), &headers, &body).expect("a nonce");
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
        assert!(CachedPage::split(basis(), &headers, &Bytes::new()).is_none());
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
            anonymous_key(&request("/pricing?interval=year", None)),
            Some("/pricing?interval=year")
        );
        assert_eq!(anonymous_key(&request("/login?next=/pro", None)), None);
        assert_eq!(anonymous_key(&request("/pricing?__err=x", None)), None);
        assert_eq!(anonymous_key(&request("/dashboard", None)), None);
        assert_eq!(
            anonymous_key(&request("/pricing", Some("theme=dark"))),
            Some("/pricing")
        );
        assert_eq!(
            anonymous_key(&request("/pricing", Some("a=b; storefront_session=abc"))),
            None
        );
        assert_eq!(
            anonymous_key(&request("/pricing", Some("__Host-storefront_session=abc"))),
            None
        );
    }
}
