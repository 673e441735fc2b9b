//! "Forgot password?": a reset link mailed to the address, and the new password set with it.
//!
//! Nothing tells whether an address has an account: the answer is the same page, and it is sent
//! before the lookup, whose work (a token, a mail) happens in the background a moment later, once
//! the answer has left. Both the client and
//! the address are limited (`AuthRateLimiter::check_mail`). Setting the new password spends every
//! link of the account and ends all of its sessions; the browser then signs in with it.

use super::links;
use super::password::validate_password;
use super::tokens::{self, Purpose};
use super::{AuthState, client_ip};
use crate::auth::LINK_EXPIRED;
use crate::db::{Database, now_unix};
use crate::domain::{Email, UserId};
use crate::error::{AppError, AppResult};
use crate::request::see_other;
use crate::state::from_context;
use std::sync::Arc;
use tracing::Instrument;

/// How long the lookup waits after the answer to "forgot password?" (see the module comment).
const AFTER_THE_ANSWER: std::time::Duration = std::time::Duration::from_millis(50);

pub async fn forgot_password(email: String) -> AppResult<()> {
    let db = from_context::<Database>()?;
    let auth = from_context::<Arc<AuthState>>()?;
    let email = Email::parse(&email).map_err(|e| AppError::Invalid(e.to_string()))?;
    auth.rate_limiter.check_mail(client_ip()?, &email)?;
    let config = auth.config.clone();
    tokio::spawn(
        async move {
            // After the answer has left: its time must not include the lookup's or the write's.
            tokio::time::sleep(AFTER_THE_ANSWER).await;
            if let Err(error) = mail_reset_if_account(&db, &config, &email).await {
                tracing::error!(%error, "reset link not queued");
            }
        }
        .instrument(tracing::Span::current()),
    );
    see_other("/forgot-password?sent=1");
    Ok(())
}

async fn mail_reset_if_account(
    db: &Database,
    config: &crate::config::Config,
    email: &Email,
) -> AppResult<()> {
    let mut tx = db.pool.begin().await?;
    let user_id = sqlx::query_scalar::<_, UserId>("SELECT id FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(user_id) = user_id {
        links::mail_reset_link(&mut tx, config, user_id, email).await?;
        tracing::info!(%user_id, "reset link queued");
    }
    tx.commit().await?;
    Ok(())
}

pub async fn reset_password(token: String, password: String) -> AppResult<()> {
    let db = from_context::<Database>()?;
    let auth = from_context::<Arc<AuthState>>()?;
    // A dead link costs one indexed read, never a password hash.
    let Some(link) = tokens::peek(&db, &token, Purpose::ResetPassword).await? else {
        return Err(AppError::Invalid(LINK_EXPIRED.into()));
    };
    validate_password(&password, &link.email)?;
    let password_hash = auth.hashing.hash(password).await?;
    let mut tx = db.pool.begin().await?;
    let Some(link) = tokens::take(&mut tx, &token, Purpose::ResetPassword).await? else {
        return Err(AppError::Invalid(LINK_EXPIRED.into()));
    };
    // The link reached the address, so the address is the owner's (if it still is the account's).
    let changed = sqlx::query(
        "UPDATE users SET password_hash = $1, \
             email_verified_at = CASE WHEN email = $2 THEN COALESCE(email_verified_at, $3) \
                                      ELSE email_verified_at END \
         WHERE id = $4",
    )
    .bind(&password_hash)
    .bind(link.email.as_str())
    .bind(now_unix())
    .bind(link.user_id)
    .execute(&mut *tx)
    .await?;
    if changed.rows_affected() == 0 {
        return Err(AppError::Invalid(LINK_EXPIRED.into()));
    }
    tokens::spend_all(&mut tx, link.user_id).await?;
    links::mail_password_changed(&mut tx, &auth.config, link.user_id, &link.email).await?;
    tx.commit().await?;
    auth.cache.forget_user(link.user_id);
    let ended = auth.sessions.end_sessions_of(link.user_id, None).await?;
    tracing::info!(user_id = %link.user_id, sessions_ended = ended, "password reset");
    see_other("/login?reset=1");
    Ok(())
}

/// Whether `token` is a live reset link (the reset page shows its form only then).
pub async fn reset_link_is_live(token: &str) -> AppResult<bool> {
    let db = from_context::<Database>()?;
    Ok(tokens::peek(&db, token, Purpose::ResetPassword)
        .await?
        .is_some())
}
