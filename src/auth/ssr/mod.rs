//! Server side of accounts: the server functions' bodies, user SQL, sessions and the middleware that
//! loads the signed-in user for each request.

mod cache;
mod password;
mod rate_limit;
mod session;
mod session_store;
mod user_pages;

pub use cache::{AuthCache, POLL_EVERY as CACHE_POLL_EVERY};
pub use password::HashingGate;
pub use rate_limit::AuthRateLimiter;
pub use session::{UserSession, request_session};
pub use session_store::{
    CachedSessionStore, HOST_ONLY_SESSION_COOKIE, SESSION_COOKIE, SessionStoreBackend,
    fresh_sessions_for_writes, session_cookie_name, session_layer,
};
pub use user_pages::UserPages;

use super::next_path;
use crate::db::{Database, now_unix};
use crate::domain::{Email, UserId};
use crate::error::{AppError, AppResult};
use crate::request::redirect;
use crate::state::from_context;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use password::validate_password;
use std::net::IpAddr;
use std::sync::Arc;
use tower_sessions::Session;

/// The signed-in user of a request, from this instance's caches alone: its one session cookie names a
/// cached session (only sign-in data, not expired) that this request would leave unchanged, of a
/// cached user. What `load_current_user` would find, without the session layer; `None` sends the
/// request down the full path, which reads and writes whatever it must (issue 20: the page cache's
/// front door serves kept pages on it).
pub fn cached_signed_in_user(
    cache: &AuthCache,
    headers: &axum::http::HeaderMap,
    cookie_name: &str,
) -> Option<crate::auth::User> {
    let id = session_store::session_cookie_id(headers, cookie_name)?;
    let user_id = session::unchanged_sign_in(&cache.session(&id)?)?;
    cache.kept_user(user_id)
}

/// The state of the accounts feature: throttles and the password-hashing cap.
pub struct AuthState {
    pub rate_limiter: AuthRateLimiter,
    pub hashing: HashingGate,
    pub cache: Arc<AuthCache>,
}

fn client_ip() -> AppResult<IpAddr> {
    crate::request::client_ip()
        .ok_or_else(|| AppError::Internal("client address missing from the request".into()))
}

/// Before a request stores something in a session it does not have yet (a visitor's first cart
/// item): a new session is a stored row for two weeks, so each client may start only so many
/// (security review 2, L4: one script could fill the sessions table).
pub async fn check_new_session(session: &Session) -> AppResult<()> {
    if session.id().is_some() {
        return Ok(());
    }
    let auth = from_context::<Arc<AuthState>>()?;
    auth.rate_limiter.check_new_session(client_ip()?)
}

pub async fn signup(email: String, password: String, next: Option<String>) -> AppResult<()> {
    let db = from_context::<Database>()?;
    let auth = from_context::<Arc<AuthState>>()?;
    auth.rate_limiter.check_signup(client_ip()?)?;
    let email = Email::parse(&email).map_err(|e| AppError::Invalid(e.to_string()))?;
    validate_password(&password, &email)?;
    let password_hash = auth.hashing.hash(password).await?;
    let user_id = insert_user(&db, &email, &password_hash).await?;
    tracing::info!(%user_id, "account created");
    UserSession::of_request().await?.sign_in(user_id).await?;
    redirect(next_path(next.as_deref()).as_str());
    Ok(())
}

pub async fn login(email: String, password: String, next: Option<String>) -> AppResult<()> {
    let db = from_context::<Database>()?;
    let auth = from_context::<Arc<AuthState>>()?;
    // A malformed e-mail cannot match an account: answer exactly as for a wrong password.
    let email = Email::parse(&email).map_err(|_| AppError::BadCredentials)?;
    auth.rate_limiter.check_login(client_ip()?, &email)?;
    let stored = sqlx::query_as::<_, (UserId, String)>(
        "SELECT id, password_hash FROM users WHERE email = $1",
    )
    .bind(email.as_str())
    .fetch_optional(&db.pool)
    .await?;
    let (user_id, hash) = stored.unzip();
    let verified = auth.hashing.verify(password, hash).await?;
    let Some(user_id) = user_id.filter(|_| verified) else {
        return Err(AppError::BadCredentials);
    };
    UserSession::of_request().await?.sign_in(user_id).await?;
    tracing::info!(%user_id, "signed in");
    redirect(next_path(next.as_deref()).as_str());
    Ok(())
}

pub async fn logout() -> AppResult<()> {
    UserSession::of_request().await?.end().await?;
    redirect("/");
    Ok(())
}

async fn insert_user(db: &Database, email: &Email, password_hash: &str) -> AppResult<UserId> {
    let inserted = sqlx::query_scalar::<_, UserId>(
        "INSERT INTO users (email, password_hash, role, created_at) VALUES ($1, $2, 'free', $3) RETURNING id",
    )
    .bind(email.as_str())
    .bind(password_hash)
    .bind(now_unix())
    .fetch_one(&db.pool)
    .await;
    match inserted {
        Ok(id) => Ok(id),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(AppError::Conflict(
            "An account with this e-mail already exists. Sign in instead.".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Middleware: puts the signed-in `User` into the request's extensions, where pages and server
/// functions find it (`auth::current_user`). Anonymous requests carry no cookie and cost no query;
/// signed-in ones cost none either while their session and user are cached (`cache`).
/// A response to a signed-in request is `Cache-Control: no-store`: it may show the user's data.
pub async fn load_current_user(
    State((db, cache)): State<(Database, Arc<AuthCache>)>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let session = UserSession::new(session);
    let mut signed_in = false;
    if let Some(user_id) = session.current_user_id().await? {
        match cache.user(&db, user_id).await? {
            Some(user) => {
                request.extensions_mut().insert(user);
                signed_in = true;
            }
            // The account is gone: end the session instead of failing every request.
            None => session.end().await?,
        }
    }
    let mut response = next.run(request).await;
    if signed_in {
        response.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    Ok(response)
}
