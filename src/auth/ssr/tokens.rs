//! Single-use links mailed to an address (issue 21): a password reset, or the verification of an
//! address. The link carries 256 random bits; only their SHA-256 is stored, so a copy of the database
//! opens no account. A link is taken once, by one conditional UPDATE, and expires.

use crate::db::{Database, now_unix};
use crate::domain::{Email, LocalPath, UserId};
use crate::error::AppResult;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use sqlx::{Any, Transaction};

/// What a link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Set a new password. Short-lived: whoever reads the mail can take the account.
    ResetPassword,
    /// Confirm that `email` is the owner's (at sign-up, or a change of address).
    VerifyEmail,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::ResetPassword => "reset_password",
            Purpose::VerifyEmail => "verify_email",
        }
    }

    pub fn lifetime_secs(self) -> i64 {
        match self {
            Purpose::ResetPassword => 30 * 60,
            Purpose::VerifyEmail => 48 * 3600,
        }
    }
}

/// A link's secret as it travels in the URL (base64url, 43 characters). Never logged or stored.
pub struct RawToken(String);

impl RawToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A live link, as found by its token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub user_id: UserId,
    #[sqlx(try_from = "String")]
    pub email: Email,
    pub next_path: Option<String>,
}

impl TokenRow {
    pub fn next(&self) -> LocalPath {
        LocalPath::or(self.next_path.as_deref(), "/dashboard")
    }
}

fn hash_of(raw: &str) -> String {
    hex::encode(Sha256::digest(raw.as_bytes()))
}

/// Only what a link of ours can be: anything else is answered as an unknown link without a query.
fn looks_like_a_token(raw: &str) -> bool {
    raw.len() == 43
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A new link for `user_id`, stored in `tx` (with the mail that carries it). The row id names the
/// mail in the outbox.
pub async fn issue(
    tx: &mut Transaction<'_, Any>,
    user_id: UserId,
    purpose: Purpose,
    email: &Email,
    next: Option<&LocalPath>,
) -> AppResult<(i64, RawToken)> {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let now = now_unix();
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO account_tokens (user_id, purpose, token_hash, email, next_path, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(hash_of(&raw))
    .bind(email.as_str())
    .bind(next.map(|n| n.as_str().to_owned()))
    .bind(now + purpose.lifetime_secs())
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok((id, RawToken(raw)))
}

/// The live link `raw` names, without taking it (a page shows its form only for a live link).
pub async fn peek(db: &Database, raw: &str, purpose: Purpose) -> AppResult<Option<TokenRow>> {
    if !looks_like_a_token(raw) {
        return Ok(None);
    }
    Ok(sqlx::query_as::<_, TokenRow>(
        "SELECT user_id, email, next_path FROM account_tokens \
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(hash_of(raw))
    .bind(purpose.as_str())
    .bind(now_unix())
    .fetch_optional(&db.pool)
    .await?)
}

/// Takes the link in `tx`: of two requests with the same link, one gets it. Every other live link of
/// the same purpose for the user is spent too (an older reset mail stops working once one was used).
pub async fn take(
    tx: &mut Transaction<'_, Any>,
    raw: &str,
    purpose: Purpose,
) -> AppResult<Option<TokenRow>> {
    if !looks_like_a_token(raw) {
        return Ok(None);
    }
    let now = now_unix();
    let taken = sqlx::query_as::<_, TokenRow>(
        "UPDATE account_tokens SET used_at = $1 \
         WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
         RETURNING user_id, email, next_path",
    )
    .bind(now)
    .bind(hash_of(raw))
    .bind(purpose.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(row) = &taken {
        sqlx::query(
            "UPDATE account_tokens SET used_at = $1 \
             WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(row.user_id)
        .bind(purpose.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(taken)
}

/// Spends every live link of the user (a changed password or address makes older mails worthless).
pub async fn spend_all(tx: &mut Transaction<'_, Any>, user_id: UserId) -> AppResult<()> {
    sqlx::query("UPDATE account_tokens SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL")
        .bind(now_unix())
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Deletes links that can no longer be used (spent or expired a day ago).
pub async fn forget_old(db: &Database) -> AppResult<()> {
    sqlx::query("DELETE FROM account_tokens WHERE expires_at < $1")
        .bind(now_unix() - 24 * 3600)
        .execute(&db.pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_shape_of_our_tokens_reaches_the_database() {
        assert!(looks_like_a_token(&"A".repeat(43)));
        assert!(looks_like_a_token(
            "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE"
        ));
        assert!(!looks_like_a_token(&"A".repeat(42)));
        assert!(!looks_like_a_token(
            "abcdefghijklmnopqrstuvwxyz0123456789-_ABC=E"
        ));
        assert_ne!(hash_of("a"), hash_of("b"));
        assert_eq!(hash_of("a").len(), 64);
    }
}
