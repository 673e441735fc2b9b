//! Server side of accounts: the server functions' bodies, user SQL, sessions and the middleware that
//! loads the signed-in user for each request.

mod password;
mod rate_limit;
mod session;
mod session_store;

pub use rate_limit::AuthRateLimiter;
pub use session::UserSession;
pub use session_store::{SESSION_COOKIE, SessionStoreBackend, session_layer};

use super::{User, safe_next_path};
use crate::db::{Database, now_unix};
use crate::domain::{Email, UserId};
use crate::error::{AppError, AppResult};
use crate::request::redirect;
use crate::state::from_context;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use password::{dummy_hash, hash_password, validate_password, verify_password};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tower_sessions::Session;

async fn client_ip() -> AppResult<IpAddr> {
    let ConnectInfo(addr) = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .map_err(|e| AppError::Internal(format!("no peer address: {e}")))?;
    Ok(addr.ip())
}

pub async fn signup(email: String, password: String, next: Option<String>) -> AppResult<()> {
    let db = from_context::<Database>()?;
    from_context::<Arc<AuthRateLimiter>>()?.check_signup(client_ip().await?)?;
    let email = Email::parse(&email).map_err(|e| AppError::Invalid(e.to_string()))?;
    validate_password(&password, &email)?;
    let password_hash = hash_password(password).await?;
    let user_id = insert_user(&db, &email, &password_hash).await?;
    tracing::info!(%user_id, "account created");
    UserSession::of_request().await?.sign_in(user_id).await?;
    redirect(safe_next_path(next.as_deref()));
    Ok(())
}

pub async fn login(email: String, password: String, next: Option<String>) -> AppResult<()> {
    let db = from_context::<Database>()?;
    // A malformed e-mail cannot match an account: answer exactly as for a wrong password.
    let email = Email::parse(&email).map_err(|_| AppError::BadCredentials)?;
    from_context::<Arc<AuthRateLimiter>>()?.check_login(client_ip().await?, &email)?;
    let stored = sqlx::query_as::<_, (UserId, String)>(
        "SELECT id, password_hash FROM users WHERE email = $1",
    )
    .bind(email.as_str())
    .fetch_optional(&db.pool)
    .await?;
    // Verify against a dummy hash when there is no such account, so timing does not reveal which.
    let (user_id, hash) = match stored {
        Some((id, hash)) => (Some(id), hash),
        None => (None, dummy_hash().to_owned()),
    };
    let verified = verify_password(password, hash).await?;
    let Some(user_id) = user_id.filter(|_| verified) else {
        return Err(AppError::BadCredentials);
    };
    UserSession::of_request().await?.sign_in(user_id).await?;
    tracing::info!(%user_id, "signed in");
    redirect(safe_next_path(next.as_deref()));
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

async fn find_user(db: &Database, user_id: UserId) -> AppResult<Option<User>> {
    Ok(
        sqlx::query_as::<_, User>("SELECT id, email, role FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&db.pool)
            .await?,
    )
}

/// Middleware: puts the signed-in `User` into the request's extensions, where pages and server
/// functions find it (`auth::current_user`). Anonymous requests carry no cookie and cost no query.
pub async fn load_current_user(
    State(db): State<Database>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let session = UserSession::new(session);
    if let Some(user_id) = session.user_id().await? {
        match find_user(&db, user_id).await? {
            Some(user) => {
                request.extensions_mut().insert(user);
            }
            // The account is gone: end the session instead of failing every request.
            None => session.end().await?,
        }
    }
    Ok(next.run(request).await)
}
