//! The page cache's front door: the middleware right behind the request log, which answers every
//! request for a kept page, anonymous or signed in, before any other layer runs (issue 20: the
//! layers and the session work were most of a kept page's cost). Whatever it cannot answer from
//! memory goes down the full path, where the page is rendered and kept.

use super::encoded::Encoding;
use super::{
    ANONYMOUS_PAGES, AnonymousPages, SIGNED_IN_PAGES, SignedInPages, cached_path,
    carries_session_cookie,
};
use crate::auth::ssr::{AuthCache, cached_signed_in_user};
use crate::server::telemetry::log_kept_page;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::time::Instant;

pub struct FrontDoor {
    anonymous: AnonymousPages,
    signed_in: Arc<SignedInPages>,
    auth: Arc<AuthCache>,
    session_cookie: &'static str,
    /// What the full path adds to a signed-in page outside the signed-in cache: the security
    /// headers and `load_current_user`'s `Cache-Control: no-store`. An anonymous page is kept with
    /// its headers as sent, since it is kept here, outside every layer that adds them.
    signed_in_headers: HeaderMap,
}

impl FrontDoor {
    pub fn new(
        anonymous: AnonymousPages,
        signed_in: Arc<SignedInPages>,
        auth: Arc<AuthCache>,
        session_cookie: &'static str,
        security_headers: &[(HeaderName, HeaderValue)],
    ) -> Self {
        let mut signed_in_headers: HeaderMap = security_headers.iter().cloned().collect();
        signed_in_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Self {
            anonymous,
            signed_in,
            auth,
            session_cookie,
            signed_in_headers,
        }
    }

    /// A signed-in user's kept page, if the request's session and user are cached and unchanged.
    fn signed_in_page(&self, request: &Request, encoding: Encoding) -> Option<Response> {
        let catalog = self.anonymous.catalog.current();
        let path = cached_path(request, SIGNED_IN_PAGES, &catalog)?;
        let user = cached_signed_in_user(&self.auth, request.headers(), self.session_cookie)?;
        let mut response =
            self.signed_in
                .kept(&(user.id, path.clone()), &path, Some(&user), encoding)?;
        for (name, value) in &self.signed_in_headers {
            response.headers_mut().insert(name, value.clone());
        }
        Some(response)
    }
}

/// Kept pages for everyone; a signed-out visitor's page is rendered and kept here too.
pub async fn serve_kept_pages(
    State(door): State<Arc<FrontDoor>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let encoding = Encoding::preferred(request.headers());
    if carries_session_cookie(request.headers()) {
        return match door.signed_in_page(&request, encoding) {
            Some(page) => {
                log_kept_page(&request, started);
                page
            }
            None => next.run(request).await,
        };
    }
    let cache = &door.anonymous;
    let Some(path) = cached_path(&request, ANONYMOUS_PAGES, &cache.catalog.current()) else {
        return next.run(request).await;
    };
    if let Some(page) = cache.kept(&path, &path, None, encoding) {
        log_kept_page(&request, started);
        return page;
    }
    cache.serve(path.clone(), &path, None, request, next).await
}
