//! Server side of accounts: the server functions' bodies, user SQL, sessions and the middleware that
//! loads the signed-in user for each request.

mod password;
mod rate_limit;
mod session_store;

pub use password::{hash_password, normalize_email, validate_password, verify_password};
pub use rate_limit::AuthRateLimiter;
pub use session_store::{SessionStoreBackend, session_layer};

use super::{User, safe_next_path};
use crate::db::now_unix;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;

const SESSION_USER_ID: &str = "user_id";

pub fn app_state() -> AppResult<AppState> {
    leptos::prelude::use_context::<AppState>()
        .ok_or_else(|| AppError::Internal("AppState missing from context".into()))
}

async fn request_session() -> AppResult<Session> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| AppError::Internal(format!("no session layer: {e}")))
}

async fn client_ip() -> AppResult<IpAddr> {
    let ConnectInfo(addr) = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .map_err(|e| AppError::Internal(format!("no peer address: {e}")))?;
    Ok(addr.ip())
}

pub async fn signup(email: String, password: String, next: Option<String>) -> AppResult<()> {
    let state = app_state()?;
    state.rate_limiter.check_signup(client_ip().await?)?;
    let email = normalize_email(&email)?;
    validate_password(&password, &email)?;
    let password_hash = hash_password(password).await?;
    let user_id = insert_user(&state, &email, &password_hash).await?;
    tracing::info!(user_id, "account created");
    start_session(&request_session().await?, user_id).await?;
    leptos_axum::redirect(safe_next_path(next.as_deref()));
    Ok(())
}

pub async fn login(email: String, password: String, next: Option<String>) -> AppResult<()> {
    let state = app_state()?;
    // A malformed e-mail cannot match an account: answer exactly as for a wrong password.
    let email = normalize_email(&email).map_err(|_| AppError::BadCredentials)?;
    state.rate_limiter.check_login(client_ip().await?, &email)?;
    let stored =
        sqlx::query_as::<_, (i64, String)>("SELECT id, password_hash FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&state.db.pool)
            .await?;
    // Verify against a dummy hash when there is no such account, so timing does not reveal which.
    let (user_id, hash) = match stored {
        Some((id, hash)) => (Some(id), hash),
        None => (None, password::dummy_hash().to_owned()),
    };
    let verified = verify_password(password, hash).await?;
    let Some(user_id) = user_id.filter(|_| verified) else {
        return Err(AppError::BadCredentials);
    };
    start_session(&request_session().await?, user_id).await?;
    tracing::info!(user_id, "signed in");
    leptos_axum::redirect(safe_next_path(next.as_deref()));
    Ok(())
}

pub async fn logout() -> AppResult<()> {
    request_session().await?.flush().await?;
    leptos_axum::redirect("/");
    Ok(())
}

async fn insert_user(state: &AppState, email: &str, password_hash: &str) -> AppResult<i64> {
    let inserted = sqlx::query_scalar::<_, i64>(
        "INSERT INTO users (email, password_hash, role, created_at) VALUES ($1, $2, 'free', $3) RETURNING id",
    )
    .bind(email)
    .bind(password_hash)
    .bind(now_unix())
    .fetch_one(&state.db.pool)
    .await;
    match inserted {
        Ok(id) => Ok(id),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(AppError::Conflict(
            "An account with this e-mail already exists. Sign in instead.".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// A new session id at every sign-in, so an id planted before sign-in is worthless (session fixation).
async fn start_session(session: &Session, user_id: i64) -> AppResult<()> {
    session.cycle_id().await?;
    session.insert(SESSION_USER_ID, user_id).await?;
    Ok(())
}

pub async fn find_user(state: &AppState, user_id: i64) -> AppResult<Option<User>> {
    Ok(
        sqlx::query_as::<_, User>("SELECT id, email, role FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&state.db.pool)
            .await?,
    )
}

/// Middleware: puts the signed-in `User` into the request's extensions, where pages and server
/// functions find it (`auth::current_user`). Anonymous requests carry no cookie and cost no query.
pub async fn load_current_user(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    if let Some(user_id) = session.get::<i64>(SESSION_USER_ID).await? {
        match find_user(&state, user_id).await? {
            Some(user) => {
                request.extensions_mut().insert(user);
            }
            // The account is gone: end the session instead of failing every request.
            None => session.flush().await?,
        }
    }
    Ok(next.run(request).await)
}
