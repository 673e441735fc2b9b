//! The page cache (docs/BENCHMARKS.md). What a signed-out visitor sees on `/`, `/pricing`,
//! `/login`, `/signup`, `/shop`, a good's page and an empty `/cart` depends only on the path, the
//! month/year choice, the catalog snapshot and (for the shop's pages) the stock, so each such page
//! is rendered once per version and then served from memory. A signed-in user's pages depend on
//! that and on the user's own rows, so they are kept per user while the catalog snapshot, the user
//! (as read for this request, access end applied) and `AuthCache::user_epoch` (bumped by every
//! change to any user's rows, here or on another instance) are all unchanged. The stock's version is
//! `AuthCache::stock_epoch`, bumped by every change of any good's stock (a trigger on `products`,
//! read by every instance's invalidation poll).
//!
//! A kept page is compressed once (brotli and gzip) and each response is the bytes the client
//! accepts (`encoded.rs`); pages carry no per-response value (their scripts are allowed by hash,
//! csp.rs). A request that carries our session cookie is never served an anonymous page, and a
//! render is only kept when it answered 200 with HTML and set no cookie.

mod encoded;
mod front_door;

pub use front_door::{FrontDoor, serve_kept_pages};

use crate::auth::User;
use crate::auth::ssr::{AuthCache, SESSION_COOKIE};
use crate::catalog::Catalog;
use crate::catalog::ssr::CatalogStore;
use crate::domain::UserId;
use crate::shop::ssr::CartCount;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use encoded::{EncodedPage, Encoding};
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The exact path-and-query forms served from the cache, declared with the route table. A fixed
/// list (and the catalog's goods for `/shop/{slug}`) keeps the cache bounded and keeps every other
/// query (`next`, a no-JavaScript form's `__err`) on the normal render.
const ANONYMOUS_PAGES: &[&str] = crate::app::CACHED_FOR_ANONYMOUS;
const SIGNED_IN_PAGES: &[&str] = crate::app::CACHED_PER_USER;
/// Signed-in pages kept at most (a few KiB each, three encodings); the least recently used go first.
const SIGNED_IN_CAPACITY: usize = 512;
/// Anonymous pages kept at most: the fixed list and the goods' pages of a large catalog.
const ANONYMOUS_CAPACITY: usize = 256;

/// A cached render is a few KiB; anything larger is not a page this cache is for.
const MAX_PAGE_BYTES: usize = 256 * 1024;

pub struct PageCache<K> {
    catalog: Arc<CatalogStore>,
    auth: Arc<AuthCache>,
    pages: quick_cache::sync::Cache<K, Arc<CachedPage>>,
}

pub type AnonymousPages = PageCache<String>;
pub type SignedInPages = PageCache<(UserId, String)>;

/// What a render depended on besides its key; a page is served only while all of it is unchanged.
#[derive(Clone)]
struct Basis {
    /// A reload swaps the snapshot's `Arc`.
    catalog: Arc<Catalog>,
    /// For the shop's pages: the stock epoch.
    stock: Option<u64>,
    /// For a signed-in page: the user as this request read it, and the user epoch.
    user: Option<(User, u64)>,
}

impl Basis {
    fn same_as(&self, other: &Basis) -> bool {
        Arc::ptr_eq(&self.catalog, &other.catalog)
            && self.stock == other.stock
            && self.user == other.user
    }
}

/// A kept render is served for at most this long, like the session and user caches' entries: whatever
/// its basis misses (security review 2, L6) is stale for no longer.
const MAX_PAGE_AGE: Duration = Duration::from_secs(60);

struct CachedPage {
    basis: Basis,
    kept_at: Instant,
    page: EncodedPage,
}

impl<K: Eq + Hash + Clone + Send + 'static> PageCache<K> {
    pub fn new(catalog: Arc<CatalogStore>, auth: Arc<AuthCache>, capacity: usize) -> Self {
        Self {
            catalog,
            auth,
            pages: quick_cache::sync::Cache::new(capacity),
        }
    }

    fn basis(&self, path: &str, user: Option<&User>) -> Basis {
        Basis {
            catalog: self.catalog.current(),
            stock: shows_stock(path).then(|| self.auth.stock_epoch()),
            user: user.map(|user| (user.clone(), self.auth.user_epoch())),
        }
    }

    /// The kept page for `key`, if everything it depended on is unchanged.
    fn kept(
        &self,
        key: &K,
        path: &str,
        user: Option<&User>,
        encoding: Encoding,
    ) -> Option<Response> {
        let basis = self.basis(path, user);
        self.pages
            .get(key)
            .filter(|kept| kept.basis.same_as(&basis) && kept.kept_at.elapsed() < MAX_PAGE_AGE)
            .map(|kept| kept.page.respond(encoding))
    }

    /// Serves the page for `key` from memory, or renders it and keeps the render.
    async fn serve(
        &self,
        key: K,
        path: &str,
        user: Option<&User>,
        mut request: Request,
        next: Next,
    ) -> Response {
        let encoding = Encoding::preferred(request.headers());
        if let Some(kept) = self.kept(&key, path, user, encoding) {
            return kept;
        }
        let basis = self.basis(path, user);
        // The render is kept uncompressed and compressed here once; the anonymous cache sits outside
        // the per-response compression, which would otherwise compress it first.
        request.headers_mut().remove(header::ACCEPT_ENCODING);
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
        let headers = parts.headers.clone();
        let compressed = tokio::task::spawn_blocking(move || {
            EncodedPage::compress(headers, bytes.clone()).map_err(|e| (e, bytes))
        })
        .await;
        let page = match compressed {
            Ok(Ok(page)) => page,
            Ok(Err((error, bytes))) => {
                tracing::error!(%error, "compressing a page failed");
                return Response::from_parts(parts, Body::from(bytes));
            }
            Err(error) => {
                tracing::error!(%error, "compressing a page failed");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        };
        let response = page.respond(encoding);
        // Kept only if nothing it depended on changed while it rendered.
        if basis.same_as(&self.basis(path, user)) {
            self.pages.insert(
                key,
                Arc::new(CachedPage {
                    basis,
                    kept_at: Instant::now(),
                    page,
                }),
            );
        }
        response
    }
}

impl AnonymousPages {
    pub fn anonymous(catalog: Arc<CatalogStore>, auth: Arc<AuthCache>) -> Self {
        Self::new(catalog, auth, ANONYMOUS_CAPACITY)
    }
}

impl SignedInPages {
    pub fn signed_in(catalog: Arc<CatalogStore>, auth: Arc<AuthCache>) -> Self {
        Self::new(catalog, auth, SIGNED_IN_CAPACITY)
    }
}

/// Middleware behind `load_current_user`: a signed-in user's own pages.
pub async fn serve_signed_in_pages(
    State(cache): State<Arc<SignedInPages>>,
    request: Request,
    next: Next,
) -> Response {
    let user = request.extensions().get::<User>().cloned();
    // The header shows the cart's count, and the cart page its lines, which the kept page would not
    // follow.
    let has_cart = request
        .extensions()
        .get::<CartCount>()
        .is_some_and(|count| count.0 > 0);
    let path = cached_path(&request, SIGNED_IN_PAGES, &cache.catalog.current());
    match (user.filter(|_| !has_cart), path) {
        (Some(user), Some(path)) => {
            cache
                .serve((user.id, path.clone()), &path, Some(&user), request, next)
                .await
        }
        _ => next.run(request).await,
    }
}

/// The cache key of a GET of a listed page, or of a good's page (`/shop/{slug}` of a good in the
/// snapshot, so the keys stay bounded by the catalog).
fn cached_path(request: &Request, listed: &[&str], catalog: &Catalog) -> Option<String> {
    if request.method() != Method::GET {
        return None;
    }
    let wanted = request.uri().path_and_query()?.as_str();
    let is_good_page = wanted.strip_prefix("/shop/").is_some_and(|slug| {
        catalog.good(slug).is_some() && !crate::app::SHOP_ROUTES.contains(&slug)
    });
    (listed.contains(&wanted) || is_good_page).then(|| wanted.to_owned())
}

/// The shop's pages show stock counts and "sold out".
fn shows_stock(path: &str) -> bool {
    path == "/shop" || path.starts_with("/shop/")
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
        && !headers.contains_key(header::CONTENT_ENCODING)
        && headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/html"))
        && headers.contains_key(header::CONTENT_SECURITY_POLICY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(uri: &str) -> Request {
        Request::get(uri).body(Body::empty()).expect("a request")
    }

    #[test]
    fn only_listed_pages_and_the_catalogs_goods_are_cached() {
        let mut catalog = Catalog::default();
        assert_eq!(
            cached_path(&get("/pricing?interval=year"), ANONYMOUS_PAGES, &catalog).as_deref(),
            Some("/pricing?interval=year")
        );
        for uncached in [
            "/login?next=/pro",
            "/pricing?__err=x",
            "/dashboard",
            "/shop/mug",
        ] {
            assert_eq!(
                cached_path(&get(uncached), ANONYMOUS_PAGES, &catalog),
                None,
                "{uncached}"
            );
        }
        catalog.goods.push(crate::catalog::Good {
            product_id: crate::domain::ProductId::from("prod_mug"),
            slug: "mug".into(),
            name: "Mug".into(),
            description: None,
            image: None,
            price_id: crate::domain::PriceId::from("price_mug"),
            money: crate::domain::Money::new(1200, "usd"),
            shippable: true,
            option: None,
            option_name: None,
        });
        assert_eq!(
            cached_path(&get("/shop/mug"), ANONYMOUS_PAGES, &catalog).as_deref(),
            Some("/shop/mug")
        );
        assert_eq!(
            cached_path(&get("/shop/mug?x=1"), ANONYMOUS_PAGES, &catalog),
            None
        );
        assert_eq!(
            cached_path(&get("/shop/cup"), ANONYMOUS_PAGES, &catalog),
            None
        );
        assert!(shows_stock("/shop/mug") && shows_stock("/shop") && !shows_stock("/pricing"));
    }

    #[test]
    fn a_session_cookie_by_either_name_is_noticed() {
        let cookie = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::COOKIE, value.parse().expect("a header"));
            headers
        };
        assert!(!carries_session_cookie(&cookie("theme=dark")));
        assert!(carries_session_cookie(&cookie(
            "a=b; storefront_session=abc"
        )));
        assert!(carries_session_cookie(&cookie(
            "__Host-storefront_session=abc"
        )));
    }
}
