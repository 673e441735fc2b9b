//! Mailing the account's single-use links (`tokens`): each is issued and queued in the caller's
//! transaction, so a link exists if and only if its mail does. Links are built on `APP_URL`.

use super::tokens::{self, Purpose};
use crate::config::Config;
use crate::domain::{Email, LocalPath, UserId};
use crate::error::AppResult;
use crate::mail::{self, templates};
use crate::request::urlencode;
use sqlx::{Any, Transaction};

/// Queues a link that verifies `email` for the user (at sign-up, or the new address of a change),
/// continuing to `next` once followed.
pub async fn mail_verification_link(
    tx: &mut Transaction<'_, Any>,
    config: &Config,
    user_id: UserId,
    email: &Email,
    next: Option<&LocalPath>,
) -> AppResult<()> {
    let (token_id, raw) = tokens::issue(tx, user_id, Purpose::VerifyEmail, email, next).await?;
    let link = templates::SingleUseLink {
        to: email.clone(),
        token_id,
        url: config.url(&format!("/verify-email?token={}", urlencode(raw.as_str()))),
        expires_at: crate::db::now_unix() + Purpose::VerifyEmail.lifetime_secs(),
    };
    mail::enqueue(tx, &templates::verify_email(link)).await?;
    Ok(())
}

/// Queues a password-reset link to the account's address.
pub async fn mail_reset_link(
    tx: &mut Transaction<'_, Any>,
    config: &Config,
    user_id: UserId,
    email: &Email,
) -> AppResult<()> {
    let (token_id, raw) = tokens::issue(tx, user_id, Purpose::ResetPassword, email, None).await?;
    let link = templates::SingleUseLink {
        to: email.clone(),
        token_id,
        url: config.url(&format!(
            "/reset-password?token={}",
            urlencode(raw.as_str())
        )),
        expires_at: crate::db::now_unix() + Purpose::ResetPassword.lifetime_secs(),
    };
    mail::enqueue(tx, &templates::password_reset(link)).await?;
    Ok(())
}

/// Tells the owner of `email` that someone tried to sign up with it (at most once an hour).
pub async fn mail_account_exists(
    tx: &mut Transaction<'_, Any>,
    config: &Config,
    user_id: UserId,
    email: &Email,
) -> AppResult<()> {
    let notice = templates::AccountExists {
        to: email.clone(),
        user_id: user_id.get(),
        hour: crate::db::now_unix() / 3600,
        login_url: config.url("/login"),
        reset_url: config.url("/forgot-password"),
    };
    mail::enqueue(tx, &templates::account_exists(notice)).await?;
    Ok(())
}

/// Tells the owner that the password changed (every other session was signed out).
pub async fn mail_password_changed(
    tx: &mut Transaction<'_, Any>,
    config: &Config,
    user_id: UserId,
    email: &Email,
) -> AppResult<()> {
    let notice = templates::PasswordChanged {
        to: email.clone(),
        user_id: user_id.get(),
        changed_at: crate::db::now_unix(),
        reset_url: config.url("/forgot-password"),
    };
    mail::enqueue(tx, &templates::password_changed(notice)).await?;
    Ok(())
}
