//! Server side of accounts: the server functions' bodies, user SQL, sessions and the middleware that
//! loads the signed-in user for each request.

mod cache;
pub mod links;
mod password;
mod rate_limit;
pub mod recovery;
mod session;
mod session_store;
mod signed_in;
pub mod tokens;
mod user_pages;

pub use cache::{AuthCache, POLL_EVERY as CACHE_POLL_EVERY};
pub use password::{HashingGate, validate_password};
pub use rate_limit::AuthRateLimiter;
pub use session::{UserSession, request_session};
pub use session_store::{
    CachedSessionStore, HOST_ONLY_SESSION_COOKIE, SESSION_COOKIE, SessionStoreBackend,
    fresh_sessions_for_writes, session_cookie_name, session_layer,
};
pub use signed_in::SignedInSession;
pub use user_pages::UserPages;

/// Retention: links that can no longer be used, and the rows of sessions that expired.
pub async fn forget_spent_account_rows(db: &Database) -> AppResult<()> {
    tokens::forget_old(db).await?;
    signed_in::forget_expired(db).await
}

/// The user's signed-in sessions, for the account page.
pub async fn signed_in_sessions(db: &Database, user_id: UserId) -> AppResult<Vec<SignedInSession>> {
    signed_in::list(db, user_id).await
}

use super::next_path;
use crate::db::{Database, now_unix};
use crate::domain::{Email, UserId};
use crate::error::{AppError, AppResult};
use crate::request::{redirect, see_other, urlencode};
use crate::state::from_context;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
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
    /// The session store, to end a user's other sessions (a new password, "sign out everywhere").
    pub sessions: CachedSessionStore,
    /// For the links mailed to users (`APP_URL`).
    pub config: Arc<crate::config::Config>,
}

pub fn client_ip() -> AppResult<IpAddr> {
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

/// Sign-up answers the same whether or not the address has an account (review 1, L11): "check your
/// inbox". A new address gets its account and a verification link, which signs in; an address with
/// an account gets a notice to its owner instead, and nobody is signed in. The password is hashed
/// either way, so both take the same time.
pub async fn signup(email: String, password: String, next: Option<String>) -> AppResult<()> {
    let db = from_context::<Database>()?;
    let auth = from_context::<Arc<AuthState>>()?;
    auth.rate_limiter.check_signup(client_ip()?)?;
    let email = Email::parse(&email).map_err(|e| AppError::Invalid(e.to_string()))?;
    validate_password(&password, &email)?;
    let next = next_path(next.as_deref());
    let password_hash = auth.hashing.hash(password).await?;
    let mut tx = db.pool.begin().await?;
    match insert_user(&mut tx, &email, &password_hash).await? {
        Some(user_id) => {
            links::mail_verification_link(&mut tx, &auth.config, user_id, &email, Some(&next))
                .await?;
            tracing::info!(%user_id, "account created");
        }
        None => {
            let owner = sqlx::query_scalar::<_, UserId>("SELECT id FROM users WHERE email = $1")
                .bind(email.as_str())
                .fetch_one(&mut *tx)
                .await?;
            links::mail_account_exists(&mut tx, &auth.config, owner, &email).await?;
            tracing::info!(user_id = %owner, "sign-up with an address that has an account");
        }
    }
    tx.commit().await?;
    see_other(&format!(
        "/signup/check-email?next={}",
        urlencode(next.as_str())
    ));
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

/// The new account's id, or `None` when the address has one already.
async fn insert_user(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    email: &Email,
    password_hash: &str,
) -> AppResult<Option<UserId>> {
    Ok(sqlx::query_scalar::<_, UserId>(
        "INSERT INTO users (email, password_hash, role, created_at) VALUES ($1, $2, 'free', $3) \
         ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(email.as_str())
    .bind(password_hash)
    .bind(now_unix())
    .fetch_optional(&mut **tx)
    .await?)
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
