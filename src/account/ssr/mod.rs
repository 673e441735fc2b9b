//! Server side of the account page: each change re-authenticates with the current password (under
//! the sign-in limits), then writes in one transaction with the mail it causes.

use crate::account::{ADDRESS_TAKEN, SAME_ADDRESS, WRONG_PASSWORD};
use crate::auth::ssr::tokens::{self, Purpose};
use crate::auth::ssr::{AuthState, UserSession, client_ip, links, validate_password};
use crate::auth::{LINK_EXPIRED, User, session_user};
use crate::db::{Database, now_unix};
use crate::domain::{Email, LocalPath, UserId};
use crate::error::{AppError, AppResult};
use crate::mail::{self, templates};
use crate::request::see_other;
use crate::state::from_context;
use std::sync::Arc;

pub mod data;

/// The features an account's changes reach into: the Stripe customer (a new address, erasure),
/// subscriptions and open orders (erasure). Put into every request's context by the server.
#[derive(Clone)]
pub struct AccountServices {
    pub customers: crate::customers::Customers,
    pub billing: crate::billing::ssr::Billing,
    pub shop: crate::shop::ssr::Shop,
}

/// The services every account change needs.
fn services() -> AppResult<(Database, Arc<AuthState>)> {
    Ok((
        from_context::<Database>()?,
        from_context::<Arc<AuthState>>()?,
    ))
}

/// The current password, checked like a sign-in (and counted against the same limits).
async fn reauthenticate(
    db: &Database,
    auth: &AuthState,
    user: &User,
    password: String,
) -> AppResult<()> {
    auth.rate_limiter.check_login(client_ip()?, &user.email)?;
    let hash = sqlx::query_scalar::<_, String>("SELECT password_hash FROM users WHERE id = $1")
        .bind(user.id)
        .fetch_optional(&db.pool)
        .await?;
    if auth.hashing.verify(password, hash).await? {
        Ok(())
    } else {
        Err(AppError::Invalid(WRONG_PASSWORD.into()))
    }
}

#[tracing::instrument(skip_all)]
pub async fn verify_email(token: String) -> AppResult<()> {
    let (db, auth) = services()?;
    let mut tx = db.pool.begin().await?;
    let Some(link) = tokens::take(&mut tx, &token, Purpose::VerifyEmail).await? else {
        return Err(AppError::Invalid(LINK_EXPIRED.into()));
    };
    let current = sqlx::query_scalar::<_, String>("SELECT email FROM users WHERE id = $1")
        .bind(link.user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::Invalid(LINK_EXPIRED.into()))?;
    let now = now_unix();
    let mut moved_to = None;
    if current == link.email.as_str() {
        sqlx::query(
            "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1) WHERE id = $2",
        )
        .bind(now)
        .bind(link.user_id)
        .execute(&mut *tx)
        .await?;
    } else {
        // A change of address, applied now that the new one is confirmed.
        let moved = sqlx::query(
            "UPDATE users SET email = $1, email_verified_at = $2 \
             WHERE id = $3 AND NOT EXISTS (SELECT 1 FROM users WHERE email = $1)",
        )
        .bind(link.email.as_str())
        .bind(now)
        .bind(link.user_id)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            return Err(AppError::Conflict(ADDRESS_TAKEN.into()));
        }
        // Older links went to the old address: they no longer open the account.
        tokens::spend_all(&mut tx, link.user_id).await?;
        let old = Email::parse(&current).map_err(|e| AppError::Internal(e.to_string()))?;
        let notice = templates::EmailChanged {
            to: old,
            user_id: link.user_id.get(),
            changed_at: now,
            reset_url: auth.config.url("/forgot-password"),
        };
        mail::enqueue(&mut tx, &templates::email_changed(notice)).await?;
        tracing::info!(user_id = %link.user_id, "address changed");
        moved_to = Some(link.email.clone());
    }
    tx.commit().await?;
    let services = from_context::<AccountServices>()?;
    if let Some(email) = moved_to {
        services.customers.carry_email(link.user_id, &email).await?;
    }
    // Orders bought as a guest with this address are the account's now (issue 22).
    services
        .shop
        .claim_guest_orders(link.user_id, link.email.as_str())
        .await?;
    // This instance's copy at once; the others learn it from the `users` trigger.
    auth.cache.forget_user(link.user_id);
    let session = UserSession::of_request().await?;
    if session.user_id().await? != Some(link.user_id) {
        session.sign_in(link.user_id).await?;
    }
    tracing::info!(user_id = %link.user_id, "address verified");
    see_other(link.next().as_str());
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn resend_verification() -> AppResult<()> {
    let Some(user) = session_user("/account")? else {
        return Ok(());
    };
    let (db, auth) = services()?;
    if !user.email_verified {
        auth.rate_limiter.check_mail(client_ip()?, &user.email)?;
        let mut tx = db.pool.begin().await?;
        let next = LocalPath::or(None, "/dashboard");
        links::mail_verification_link(&mut tx, &auth.config, user.id, &user.email, Some(&next))
            .await?;
        tx.commit().await?;
    }
    see_other("/account?verification_sent=1");
    Ok(())
}

/// Mails a link to the new address; nothing changes until it is followed. An address that has an
/// account gets that account's owner a notice instead, and the answer is the same (no enumeration).
#[tracing::instrument(skip_all)]
pub async fn change_email(email: String, current_password: String) -> AppResult<()> {
    let Some(user) = session_user("/account")? else {
        return Ok(());
    };
    let (db, auth) = services()?;
    let email = Email::parse(&email).map_err(|e| AppError::Invalid(e.to_string()))?;
    if email == user.email {
        return Err(AppError::Invalid(SAME_ADDRESS.into()));
    }
    reauthenticate(&db, &auth, &user, current_password).await?;
    auth.rate_limiter.check_mail(client_ip()?, &email)?;
    // Read before the transaction: on SQLite a transaction that reads first cannot take the write
    // lock once another connection has committed meanwhile (SQLITE_BUSY, not waited out). Which
    // mail goes out is all the read decides.
    let owner = sqlx::query_scalar::<_, UserId>("SELECT id FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(&db.pool)
        .await?;
    let mut tx = db.pool.begin().await?;
    match owner {
        Some(owner) => links::mail_account_exists(&mut tx, &auth.config, owner, &email).await?,
        None => {
            let next = LocalPath::or(None, "/account");
            links::mail_verification_link(&mut tx, &auth.config, user.id, &email, Some(&next))
                .await?
        }
    }
    tx.commit().await?;
    tracing::info!(user_id = %user.id, "address change asked");
    see_other("/account?email_sent=1");
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn change_password(current_password: String, password: String) -> AppResult<()> {
    let Some(user) = session_user("/account")? else {
        return Ok(());
    };
    let (db, auth) = services()?;
    reauthenticate(&db, &auth, &user, current_password).await?;
    validate_password(&password, &user.email)?;
    let password_hash = auth.hashing.hash(password).await?;
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(&password_hash)
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    tokens::spend_all(&mut tx, user.id).await?;
    links::mail_password_changed(&mut tx, &auth.config, user.id, &user.email).await?;
    tx.commit().await?;
    let this_browser = UserSession::of_request().await?.id();
    let ended = auth.sessions.end_sessions_of(user.id, this_browser).await?;
    tracing::info!(user_id = %user.id, sessions_ended = ended, "password changed");
    see_other("/account?password_changed=1");
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn sign_out_others(current_password: String) -> AppResult<()> {
    let Some(user) = session_user("/account")? else {
        return Ok(());
    };
    let (db, auth) = services()?;
    reauthenticate(&db, &auth, &user, current_password).await?;
    let this_browser = UserSession::of_request().await?.id();
    let ended = auth.sessions.end_sessions_of(user.id, this_browser).await?;
    tracing::info!(user_id = %user.id, sessions_ended = ended, "other sessions signed out");
    see_other("/account?signed_out=1");
    Ok(())
}

/// What the account page shows besides the user: the signed-in sessions, this browser's first.
pub async fn sessions_of(user: &User) -> AppResult<Vec<(bool, crate::auth::ssr::SignedInSession)>> {
    let db = from_context::<Database>()?;
    let this_browser = UserSession::of_request().await?.id();
    let mut sessions: Vec<_> = crate::auth::ssr::signed_in_sessions(&db, user.id)
        .await?
        .into_iter()
        .map(|session| (session.is(this_browser), session))
        .collect();
    sessions.sort_by_key(|(this, _)| !this);
    Ok(sessions)
}

/// The e-mail a live verification link confirms (its page shows it).
pub async fn address_of_link(token: &str) -> AppResult<Option<Email>> {
    let db = from_context::<Database>()?;
    Ok(tokens::peek(&db, token, Purpose::VerifyEmail)
        .await?
        .map(|link| link.email))
}
