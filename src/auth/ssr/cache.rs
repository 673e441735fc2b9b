//! In-process caches of sessions and users (docs/ARCHITECTURE.md, Caches), so a signed-in page costs no
//! database read while nothing changed.
//!
//! Bounded (`CAPACITY` entries each, least recently used out first). Kept right by invalidation:
//! - on this instance, at once: the session store's writes and deletes pass through here, and
//!   billing forgets the users it writes;
//! - on every instance, within `POLL_EVERY`: deleted sessions, changed users (a database trigger
//!   on `users`, so no writer can forget) and changed stock (a trigger on `products`, for the shop's
//!   cached pages) are written to `cache_invalidations`, which each instance reads.
//!
//! Every entry is also dropped after `MAX_AGE`, in case an invalidation was missed (the poll failed
//! for longer than its margin, an instance's clock is far off, a sign-out could not be announced);
//! a session entry never outlives the session's own expiry either.

use crate::auth::User;
use crate::db::{Database, now_unix};
use crate::domain::{Email, Role, UserId};
use crate::error::AppResult;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use tower_sessions::session::{Id, Record};

const CAPACITY: usize = 10_000;
pub const POLL_EVERY: Duration = Duration::from_millis(500);
const MAX_AGE: Duration = Duration::from_secs(60);
/// Rows are read again for this long, for writers that committed late and for clock skew between
/// instances; each row is applied once.
const POLL_MARGIN_SECS: i64 = 10;
/// How long invalidation rows are kept (they only matter for `POLL_MARGIN_SECS`).
pub const INVALIDATIONS_KEPT_SECS: i64 = 3600;

/// A user's row as stored; what it grants is decided at each read (`user_at`).
#[derive(Clone, sqlx::FromRow)]
struct StoredUser {
    id: UserId,
    #[sqlx(try_from = "String")]
    email: Email,
    #[sqlx(try_from = "String")]
    role: Role,
    access_until: Option<i64>,
    email_verified_at: Option<i64>,
}

impl StoredUser {
    /// A paid role past its access end reads as free (security review M4), decided at each read.
    fn user_at(&self, now: i64) -> User {
        let expired = self.access_until.is_some_and(|until| until < now);
        User {
            id: self.id,
            email: self.email.clone(),
            role: if expired { Role::Free } else { self.role },
            email_verified: self.email_verified_at.is_some(),
        }
    }
}

pub struct AuthCache {
    sessions: quick_cache::sync::Cache<Id, (Record, Instant)>,
    users: quick_cache::sync::Cache<UserId, (StoredUser, Instant)>,
    /// Bumped by every invalidation; a read from the database is only kept when no invalidation
    /// happened while it ran (else it may be older than the change that was just forgotten).
    epoch: AtomicU64,
    /// Bumped only when a user's rows changed (not by sessions): what per-user page renders check.
    user_epoch: AtomicU64,
    /// Bumped when any good's stock changed (the `products_stock_changed` trigger's rows, or this
    /// instance's own stock writes): what the shop's cached pages check. Kept here because this is
    /// the reader of `cache_invalidations`; nothing else of the auth cache depends on it.
    stock_epoch: AtomicU64,
    poll: Mutex<PollState>,
}

#[derive(Default)]
struct PollState {
    /// Rows applied in the window still read, by id, with their time.
    applied: HashMap<i64, i64>,
}

impl Default for AuthCache {
    fn default() -> Self {
        Self {
            sessions: quick_cache::sync::Cache::new(CAPACITY),
            users: quick_cache::sync::Cache::new(CAPACITY),
            epoch: AtomicU64::new(0),
            user_epoch: AtomicU64::new(0),
            stock_epoch: AtomicU64::new(0),
            poll: Mutex::default(),
        }
    }
}

impl AuthCache {
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    pub fn session(&self, id: &Id) -> Option<Record> {
        let (record, kept) = self.sessions.get(id)?;
        if record.expiry_date <= time::OffsetDateTime::now_utc() || kept.elapsed() >= MAX_AGE {
            self.sessions.remove(id);
            return None;
        }
        Some(record)
    }

    /// Keeps a record read from or written to the store, unless an invalidation ran since `epoch`.
    /// Keeps the record read or written at `epoch`; if an invalidation ran since, the entry is
    /// dropped instead (the next load reads the database), so an older copy is never left behind a
    /// newer write.
    pub fn keep_session(&self, record: &Record, epoch: u64) {
        if self.epoch() == epoch && is_sign_in_only(record) {
            self.sessions
                .insert(record.id, (record.clone(), Instant::now()));
        } else {
            self.sessions.remove(&record.id);
        }
    }

    pub fn forget_session(&self, id: &Id) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.sessions.remove(id);
    }

    pub fn user_epoch(&self) -> u64 {
        self.user_epoch.load(Ordering::Acquire)
    }

    pub fn forget_user(&self, id: UserId) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.user_epoch.fetch_add(1, Ordering::AcqRel);
        self.users.remove(&id);
    }

    pub fn stock_epoch(&self) -> u64 {
        self.stock_epoch.load(Ordering::Acquire)
    }

    /// Some good's stock changed: pages showing stock are stale.
    pub fn forget_stock(&self) {
        self.stock_epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// The user, from memory or else the database; `None` when the account is gone.
    pub async fn user(&self, db: &Database, id: UserId) -> AppResult<Option<User>> {
        if let Some(user) = self.kept_user(id) {
            return Ok(Some(user));
        }
        let now = now_unix();
        Ok(self
            .load_user(db, id)
            .await?
            .map(|stored| stored.user_at(now)))
    }

    /// The user from memory only; `None` when not kept (or kept too long).
    pub fn kept_user(&self, id: UserId) -> Option<User> {
        let (stored, kept) = self.users.get(&id)?;
        (kept.elapsed() < MAX_AGE).then(|| stored.user_at(now_unix()))
    }

    /// A cache miss: reads the row and keeps it, unless an invalidation ran meanwhile.
    #[tracing::instrument(skip(self, db))]
    async fn load_user(&self, db: &Database, id: UserId) -> AppResult<Option<StoredUser>> {
        let epoch = self.epoch();
        let stored = sqlx::query_as::<_, StoredUser>(
            "SELECT id, email, role, access_until, email_verified_at FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
        if let Some(stored) = &stored
            && self.epoch() == epoch
        {
            self.users.insert(id, (stored.clone(), Instant::now()));
        }
        Ok(stored)
    }

    /// Applies the invalidations other instances (and the `users` trigger) wrote recently.
    pub async fn apply_invalidations(&self, db: &Database) -> AppResult<()> {
        // Rows carry the database's clock (triggers, `announce_session`), so the window is measured
        // on it too, never on this instance's (security review 2, L3: an instance more than 10 s
        // ahead of the database never applied a row).
        let db_now = sqlx::query_scalar::<_, i64>(&format!("SELECT {}", db.now_sql()))
            .fetch_one(&db.pool)
            .await?;
        let since = db_now - POLL_MARGIN_SECS;
        let rows = sqlx::query_as::<_, (i64, String, String, i64)>(
            "SELECT id, kind, key, created_at FROM cache_invalidations WHERE created_at >= $1",
        )
        .bind(since)
        .fetch_all(&db.pool)
        .await?;
        let mut poll = self.poll.lock().unwrap_or_else(PoisonError::into_inner);
        poll.applied.retain(|_, created_at| *created_at >= since);
        for (row_id, kind, key, created_at) in rows {
            if poll.applied.insert(row_id, created_at).is_some() {
                continue;
            }
            match kind.as_str() {
                "user" => match key.parse::<i64>() {
                    Ok(id) => self.forget_user(UserId::new(id)),
                    Err(_) => tracing::warn!(row_id, "malformed user invalidation"),
                },
                "session" => match key.parse::<Id>() {
                    Ok(id) => self.forget_session(&id),
                    Err(_) => tracing::warn!(row_id, "malformed session invalidation"),
                },
                "stock" => self.forget_stock(),
                _ => tracing::warn!(row_id, "unknown invalidation kind"),
            }
        }
        Ok(())
    }

    /// Deletes invalidation rows no instance reads any more.
    pub async fn forget_old_invalidations(db: &Database) -> AppResult<()> {
        sqlx::query(&format!(
            "DELETE FROM cache_invalidations WHERE created_at < {} - $1",
            db.now_sql()
        ))
        .bind(INVALIDATIONS_KEPT_SECS)
        .execute(&db.pool)
        .await?;
        Ok(())
    }
}

/// Whether the record holds only what sign-in writes: such a session may be cached by every
/// instance; one with a feature's data (a cart) is read from the database on each request.
pub fn is_sign_in_only(record: &Record) -> bool {
    record
        .data
        .keys()
        .all(|key| super::session::SIGN_IN_KEYS.contains(&key.as_str()))
}

/// Tells every instance that a session is gone (its id can never be used again), or changed in a
/// way a cached copy would hide: every instance forgets its copy.
pub async fn announce_session(db: &Database, id: &Id) -> AppResult<()> {
    // The database's clock, as the triggers' rows have: the poll compares with it.
    sqlx::query(&format!(
        "INSERT INTO cache_invalidations (kind, key, created_at) VALUES ('session', $1, {})",
        db.now_sql()
    ))
    .bind(id.to_string())
    .execute(&db.pool)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_paid_role_reads_as_free_after_its_access_end() {
        let cached = StoredUser {
            id: UserId::new(1),
            email: Email::parse("a@example.com").expect("an e-mail"),
            role: Role::Pro,
            access_until: Some(1_000),
            email_verified_at: None,
        };
        assert_eq!(cached.user_at(999).role, Role::Pro);
        assert_eq!(cached.user_at(1_001).role, Role::Free);
    }

    #[test]
    fn a_read_that_overlapped_an_invalidation_is_not_kept() {
        let cache = AuthCache::default();
        let record = Record {
            id: Id::default(),
            data: HashMap::new(),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        let epoch = cache.epoch();
        cache.forget_user(UserId::new(7));
        cache.keep_session(&record, epoch);
        assert!(cache.session(&record.id).is_none());
        cache.keep_session(&record, cache.epoch());
        assert!(cache.session(&record.id).is_some());
    }

    /// A write that overlapped an invalidation must not leave the older copy behind (the cart is
    /// session data that changes on every add).
    #[test]
    fn a_write_that_overlapped_an_invalidation_drops_the_older_copy() {
        let cache = AuthCache::default();
        let mut record = Record {
            id: Id::default(),
            data: HashMap::new(),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        cache.keep_session(&record, cache.epoch());
        let epoch = cache.epoch();
        record
            .data
            .insert("cart".into(), serde_json::json!({"lines": []}));
        cache.forget_user(UserId::new(7));
        cache.keep_session(&record, epoch);
        assert!(
            cache.session(&record.id).is_none(),
            "read from the database next"
        );
    }
}
