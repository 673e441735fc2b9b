//! The session as this app uses it: who is signed in, and since when. The only code that knows the
//! session's keys.
//!
//! Lifetime (security review L7): a session expires after `session_store`'s idle period, counted
//! from the last request (sliding), and in any case `ABSOLUTE_LIFETIME_SECS` after sign-in. The
//! store is written at most once per `TOUCH_EVERY_SECS` per session to slide the expiry, not on
//! every request.

use crate::db::now_unix;
use crate::domain::UserId;
use crate::error::{AppError, AppResult};
use tower_sessions::Session;

pub(super) const USER_ID_KEY: &str = "user_id";
pub(super) const SIGNED_IN_AT_KEY: &str = "signed_in_at";
const SEEN_AT_KEY: &str = "seen_at";
/// The browser's User-Agent at sign-in, for the account page's list of sessions.
pub(super) const AGENT_KEY: &str = "agent";
/// The keys sign-in writes. A session holding only these may be cached by every instance; one that
/// also holds a feature's data (a cart) is read from the database on each request, so that what one
/// instance wrote is what the next request sees on any other (security review 2, M1).
pub(super) const SIGN_IN_KEYS: [&str; 4] = [USER_ID_KEY, SIGNED_IN_AT_KEY, SEEN_AT_KEY, AGENT_KEY];
pub const ABSOLUTE_LIFETIME_SECS: i64 = 30 * 24 * 3600;
const TOUCH_EVERY_SECS: i64 = 24 * 3600;

/// What a request does to a signed-in session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lifetime {
    Keep,
    /// Write it back, which moves its idle expiry (and the cookie's) forward from now.
    Touch,
    End,
}

fn lifetime(signed_in_at: Option<i64>, seen_at: Option<i64>, now: i64) -> Lifetime {
    match (signed_in_at, seen_at) {
        (Some(start), _) if now - start >= ABSOLUTE_LIFETIME_SECS => Lifetime::End,
        (Some(_), Some(seen)) if now - seen < TOUCH_EVERY_SECS => Lifetime::Keep,
        _ => Lifetime::Touch,
    }
}

/// The user a stored session is signed in as, if a request on it would leave it as it is (neither
/// slid nor ended): such a request may be answered without the session layer (the page cache's
/// front door, `auth::ssr::cached_signed_in_user`).
pub(super) fn unchanged_sign_in(record: &tower_sessions::session::Record) -> Option<UserId> {
    let number = |key: &str| record.data.get(key).and_then(serde_json::Value::as_i64);
    let user_id = number(USER_ID_KEY)?;
    match lifetime(number(SIGNED_IN_AT_KEY), number(SEEN_AT_KEY), now_unix()) {
        Lifetime::Keep => Some(UserId::new(user_id)),
        Lifetime::Touch | Lifetime::End => None,
    }
}

/// The session of the request a server function is handling (the session layer put it there).
pub async fn request_session() -> AppResult<Session> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| AppError::Internal(format!("no session layer: {e}")))
}

pub struct UserSession(Session);

impl UserSession {
    pub fn new(session: Session) -> Self {
        Self(session)
    }

    /// The session of the request a server function is handling.
    pub async fn of_request() -> AppResult<Self> {
        request_session().await.map(Self)
    }

    pub async fn user_id(&self) -> AppResult<Option<UserId>> {
        Ok(self.0.get::<i64>(USER_ID_KEY).await?.map(UserId::new))
    }

    /// The signed-in user of a request, applying the session's lifetime: past the absolute cap the
    /// session ends; otherwise it slides, written back at most once a day.
    pub async fn current_user_id(&self) -> AppResult<Option<UserId>> {
        let Some(user_id) = self.user_id().await? else {
            return Ok(None);
        };
        let now = now_unix();
        let signed_in_at = self.0.get::<i64>(SIGNED_IN_AT_KEY).await?;
        match lifetime(signed_in_at, self.0.get::<i64>(SEEN_AT_KEY).await?, now) {
            Lifetime::Keep => {}
            Lifetime::Touch => {
                // Sessions from before this rule count from now.
                if signed_in_at.is_none() {
                    self.0.insert(SIGNED_IN_AT_KEY, now).await?;
                }
                self.0.insert(SEEN_AT_KEY, now).await?;
            }
            Lifetime::End => {
                self.end().await?;
                return Ok(None);
            }
        }
        Ok(Some(user_id))
    }

    /// A new session id at every sign-in, so an id planted before sign-in is worthless (session
    /// fixation).
    pub async fn sign_in(&self, user_id: UserId) -> AppResult<()> {
        self.0.cycle_id().await?;
        let now = now_unix();
        self.0.insert(USER_ID_KEY, user_id.get()).await?;
        self.0.insert(SIGNED_IN_AT_KEY, now).await?;
        self.0.insert(SEEN_AT_KEY, now).await?;
        let user_agent =
            leptos::prelude::use_context::<axum::http::request::Parts>().and_then(|parts| {
                parts
                    .headers
                    .get(axum::http::header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            });
        self.0
            .insert(AGENT_KEY, agent_of(user_agent.as_deref()))
            .await?;
        Ok(())
    }

    /// The id of this session as stored (None before its first save).
    pub fn id(&self) -> Option<tower_sessions::session::Id> {
        self.0.id()
    }

    /// Deletes the session from the store and the cookie from the browser.
    pub async fn end(&self) -> AppResult<()> {
        Ok(self.0.flush().await?)
    }
}

/// A User-Agent shortened to what a list needs (and what a row may hold).
fn agent_of(user_agent: Option<&str>) -> String {
    let agent: String = user_agent
        .unwrap_or("Unknown browser")
        .chars()
        .filter(|c| !c.is_control())
        .take(160)
        .collect();
    agent
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 24 * 3600;

    fn record(pairs: &[(&str, i64)]) -> tower_sessions::session::Record {
        tower_sessions::session::Record {
            id: tower_sessions::session::Id::default(),
            data: pairs
                .iter()
                .map(|(key, value)| ((*key).to_owned(), serde_json::json!(value)))
                .collect(),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::days(1),
        }
    }

    /// Issue 20: only a session a request would leave unchanged may skip the session layer.
    #[test]
    fn only_a_session_that_stays_as_it_is_is_answered_without_the_session_layer() {
        let now = now_unix();
        let fresh = record(&[
            (USER_ID_KEY, 7),
            (SIGNED_IN_AT_KEY, now),
            (SEEN_AT_KEY, now),
        ]);
        assert_eq!(unchanged_sign_in(&fresh), Some(UserId::new(7)));
        let to_slide = record(&[
            (USER_ID_KEY, 7),
            (SIGNED_IN_AT_KEY, now - 2 * DAY),
            (SEEN_AT_KEY, now - 2 * DAY),
        ]);
        assert_eq!(unchanged_sign_in(&to_slide), None, "a touch writes it");
        let too_old = record(&[
            (USER_ID_KEY, 7),
            (SIGNED_IN_AT_KEY, now - ABSOLUTE_LIFETIME_SECS),
            (SEEN_AT_KEY, now),
        ]);
        assert_eq!(unchanged_sign_in(&too_old), None, "it ends");
        assert_eq!(unchanged_sign_in(&record(&[(SEEN_AT_KEY, now)])), None);
    }

    /// Security review L7: an active user stays signed in (sliding), but never past the cap.
    #[test]
    fn l7_sessions_slide_daily_and_end_at_the_absolute_cap() {
        let start = 1_800_000_000;
        assert_eq!(
            lifetime(Some(start), Some(start), start + 60),
            Lifetime::Keep
        );
        assert_eq!(
            lifetime(Some(start), Some(start), start + DAY),
            Lifetime::Touch,
            "a day later the expiry moves forward"
        );
        assert_eq!(
            lifetime(Some(start), Some(start + 29 * DAY), start + 29 * DAY + 60),
            Lifetime::Keep
        );
        assert_eq!(
            lifetime(Some(start), Some(start + 29 * DAY), start + 30 * DAY),
            Lifetime::End
        );
        assert_eq!(
            lifetime(None, None, start),
            Lifetime::Touch,
            "an older session gets a start"
        );
    }
}
