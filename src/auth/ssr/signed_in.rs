//! Which stored sessions are signed in as whom (`user_sessions`), for the account page's list and for
//! ending a user's other sessions. The session store writes a row whenever it creates or writes back a
//! signed-in session and deletes it with the session; tower-sessions' own rows are opaque blobs.

use super::session::{AGENT_KEY, SIGNED_IN_AT_KEY, USER_ID_KEY};
use crate::db::{Database, now_unix};
use crate::domain::UserId;
use crate::error::AppResult;
use tower_sessions::session::{Id, Record};

/// One signed-in browser as the account page lists it: never its id, which is a credential.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignedInSession {
    /// The row's key, compared with the current session's id on the server only.
    #[sqlx(rename = "session_id")]
    pub(super) id: String,
    pub signed_in_at: i64,
    pub seen_at: i64,
    /// The browser's own description of itself (User-Agent), shortened.
    pub agent: String,
}

/// Records (or refreshes) the row of `record` if it is signed in.
pub(super) async fn note(db: &Database, record: &Record) -> AppResult<()> {
    let number = |key: &str| record.data.get(key).and_then(serde_json::Value::as_i64);
    let Some(user_id) = number(USER_ID_KEY) else {
        return Ok(());
    };
    let now = now_unix();
    let agent = record
        .data
        .get(AGENT_KEY)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    sqlx::query(
        "INSERT INTO user_sessions (session_id, user_id, signed_in_at, seen_at, expires_at, agent) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (session_id) DO UPDATE SET seen_at = excluded.seen_at, expires_at = excluded.expires_at",
    )
    .bind(record.id.to_string())
    .bind(user_id)
    .bind(number(SIGNED_IN_AT_KEY).unwrap_or(now))
    .bind(now)
    .bind(record.expiry_date.unix_timestamp())
    .bind(agent)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub(super) async fn forget(db: &Database, id: &Id) -> AppResult<()> {
    sqlx::query("DELETE FROM user_sessions WHERE session_id = $1")
        .bind(id.to_string())
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The user's live sessions, the most recently seen first.
#[tracing::instrument(skip(db))]
pub async fn list(db: &Database, user_id: UserId) -> AppResult<Vec<SignedInSession>> {
    Ok(sqlx::query_as::<_, SignedInSession>(
        "SELECT session_id, signed_in_at, seen_at, agent FROM user_sessions \
         WHERE user_id = $1 AND expires_at > $2 ORDER BY seen_at DESC, signed_in_at DESC",
    )
    .bind(user_id)
    .bind(now_unix())
    .fetch_all(&db.pool)
    .await?)
}

impl SignedInSession {
    pub fn is(&self, id: Option<Id>) -> bool {
        id.is_some_and(|id| id.to_string() == self.id)
    }

    pub(super) fn session_id(&self) -> Option<Id> {
        self.id.parse().ok()
    }
}

/// Rows of sessions that expired (the store's own sweep deletes their records).
pub async fn forget_expired(db: &Database) -> AppResult<()> {
    sqlx::query("DELETE FROM user_sessions WHERE expires_at < $1")
        .bind(now_unix())
        .execute(&db.pool)
        .await?;
    Ok(())
}
