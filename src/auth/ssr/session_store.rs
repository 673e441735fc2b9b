//! tower-sessions with its sqlx stores. The store type follows the database backend, so this enum
//! forwards to the SQLite or PostgreSQL store of `tower-sessions-sqlx-store`; `CachedSessionStore`
//! puts the in-process cache (`cache::AuthCache`) in front of it.

use super::cache::{AuthCache, announce_session, is_sign_in_only};
use super::signed_in;
use crate::config::Config;
use crate::db::{Database, TypedPool};
use async_trait::async_trait;
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

pub const SESSION_COOKIE: &str = "storefront_session";
/// Under https the browser then only accepts the cookie from this exact host, over TLS, for `/`.
pub const HOST_ONLY_SESSION_COOKIE: &str = "__Host-storefront_session";
const SESSION_IDLE_DAYS: i64 = 14;

/// The store, and its pool for the one statement written here (`save`).
#[derive(Debug, Clone)]
pub enum SessionStoreBackend {
    Sqlite(SqliteStore, sqlx::SqlitePool),
    Postgres(PostgresStore, sqlx::PgPool),
}

impl SessionStoreBackend {
    /// Creates the store's table if needed.
    pub async fn for_database(db: &Database) -> Result<Self, sqlx::Error> {
        Ok(match &db.typed {
            TypedPool::Sqlite(pool) => {
                let store = SqliteStore::new(pool.clone());
                store.migrate().await?;
                SessionStoreBackend::Sqlite(store, pool.clone())
            }
            TypedPool::Postgres(pool) => {
                let store = PostgresStore::new(pool.clone());
                store.migrate().await?;
                SessionStoreBackend::Postgres(store, pool.clone())
            }
        })
    }
}

impl SessionStoreBackend {
    /// Writes an existing session back, never creating one: the store's own `save` is an upsert, so a
    /// save racing a sign-out (another instance's stale copy, an island's post in flight) wrote the
    /// deleted session back, signed in again (security review 2, M1). Only `create` inserts; a save
    /// that finds no row leaves the session ended, and its next request is signed out.
    async fn save_existing(&self, record: &Record) -> session_store::Result<bool> {
        let data =
            rmp_serde::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let written = match self {
            Self::Sqlite(_, pool) => {
                sqlx::query("UPDATE tower_sessions SET data = ?, expiry_date = ? WHERE id = ?")
                    .bind(data)
                    .bind(record.expiry_date)
                    .bind(record.id.to_string())
                    .execute(pool)
                    .await
                    .map(|done| done.rows_affected())
            }
            Self::Postgres(_, pool) => sqlx::query(
                "UPDATE tower_sessions.session SET data = $1, expiry_date = $2 WHERE id = $3",
            )
            .bind(data)
            .bind(record.expiry_date)
            .bind(record.id.to_string())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()),
        }
        .map_err(|e| session_store::Error::Backend(e.to_string()))?;
        if written == 0 {
            tracing::info!("a save of an ended session was not written back");
        }
        Ok(written > 0)
    }
}

#[async_trait]
impl SessionStore for SessionStoreBackend {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s, _) => s.create(record).await,
            Self::Postgres(s, _) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.save_existing(record).await.map(drop)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Sqlite(s, _) => s.load(id).await,
            Self::Postgres(s, _) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s, _) => s.delete(id).await,
            Self::Postgres(s, _) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for SessionStoreBackend {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s, _) => s.delete_expired().await,
            Self::Postgres(s, _) => s.delete_expired().await,
        }
    }
}

/// The store the session layer uses: reads are answered from memory when the session is cached;
/// writes go to the database first, then to the cache; a delete is announced to every instance.
#[derive(Clone)]
pub struct CachedSessionStore {
    store: SessionStoreBackend,
    cache: Arc<AuthCache>,
    db: Database,
}

impl std::fmt::Debug for CachedSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedSessionStore").finish_non_exhaustive()
    }
}

impl CachedSessionStore {
    pub fn new(store: SessionStoreBackend, cache: Arc<AuthCache>, db: Database) -> Self {
        Self { store, cache, db }
    }

    /// The store underneath, for the sweep of expired sessions.
    pub fn backend(&self) -> &SessionStoreBackend {
        &self.store
    }

    /// Ends every signed-in session of the user but `except` (the browser asking), on every instance
    /// (each delete is announced). Returns how many were ended.
    #[tracing::instrument(skip(self, except))]
    pub async fn end_sessions_of(
        &self,
        user_id: crate::domain::UserId,
        except: Option<Id>,
    ) -> crate::error::AppResult<usize> {
        let mut ended = 0;
        for session in signed_in::list(&self.db, user_id).await? {
            if session.is(except) {
                continue;
            }
            if let Some(id) = session.session_id() {
                SessionStore::delete(self, &id)
                    .await
                    .map_err(|e| crate::error::AppError::Session(e.into()))?;
                ended += 1;
            }
        }
        Ok(ended)
    }
}

fn backend_error(error: crate::error::AppError) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

#[async_trait]
impl SessionStore for CachedSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let epoch = self.cache.epoch();
        self.store.create(record).await?;
        self.cache.keep_session(record, epoch);
        signed_in::note(&self.db, record)
            .await
            .map_err(backend_error)
    }

    /// A signed-in session that now holds more than sign-in data (a cart) is announced: other
    /// instances may hold a copy from before, which their next request would otherwise read, and
    /// save back over this write (security review 2, M1: a cart changed on one instance lost its
    /// items on the next). Such a session is never cached again, so later changes need no notice.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let epoch = self.cache.epoch();
        let written = self.store.save_existing(record).await?;
        self.cache.keep_session(record, epoch);
        if written {
            signed_in::note(&self.db, record)
                .await
                .map_err(backend_error)?;
        }
        if !is_sign_in_only(record) && record.data.contains_key(super::session::USER_ID_KEY) {
            announce_session(&self.db, &record.id)
                .await
                .map_err(backend_error)?;
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let writes = WRITE_REQUEST.try_with(|writes| *writes).unwrap_or(false);
        if !writes && let Some(record) = self.cache.session(id) {
            return Ok(Some(record));
        }
        let epoch = self.cache.epoch();
        let record = self.store.load(id).await?;
        if let Some(record) = &record {
            self.cache.keep_session(record, epoch);
        }
        Ok(record)
    }

    /// Only the end of a signed-in session is announced: other instances may hold it, and must stop
    /// accepting it. An anonymous session (a cart) is never cached, so its end needs no notice, and a
    /// flood of them cannot fill `cache_invalidations` or keep every instance's caches cold (security
    /// review 2, L4).
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let signed_in = match self.cache.session(id) {
            Some(record) => Some(record),
            None => self.store.load(id).await?,
        }
        .is_some_and(|record| record.data.contains_key(super::session::USER_ID_KEY));
        self.cache.forget_session(id);
        self.store.delete(id).await?;
        signed_in::forget(&self.db, id)
            .await
            .map_err(backend_error)?;
        if signed_in {
            announce_session(&self.db, id)
                .await
                .map_err(backend_error)?;
        }
        Ok(())
    }
}

tokio::task_local! {
    /// Whether the request being handled may write (anything but GET and HEAD).
    static WRITE_REQUEST: bool;
}

/// Middleware outside the session layer: a request that may write (a form post, a server function)
/// reads its session from the database, never from this instance's cache, so that what it changes
/// or charges (a cart) is what was last written on any instance (security review 2, M1: a checkout
/// on one instance charged the cart as another instance's stale copy had it). Pages (GET) may be
/// served from the cache, which other instances' announcements keep within half a second.
pub async fn fresh_sessions_for_writes(request: Request, next: Next) -> Response {
    let writes = !matches!(*request.method(), Method::GET | Method::HEAD);
    WRITE_REQUEST.scope(writes, next.run(request)).await
}

/// The session cookie's name: with the `__Host-` prefix under https.
pub fn session_cookie_name(config: &Config) -> &'static str {
    if config.cookies_secure() {
        HOST_ONLY_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// The session id a request's cookies carry under `name`, if exactly one cookie has that name (with
/// two, which one the session layer would take is its business: the full path decides).
pub fn session_cookie_id(headers: &axum::http::HeaderMap, name: &str) -> Option<Id> {
    let mut values = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|header| header.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value);
    let value = values.next()?;
    match values.next() {
        Some(_) => None,
        None => value.parse().ok(),
    }
}

/// HttpOnly, SameSite=Lax, and under https Secure with the `__Host-` prefix; expires after two idle
/// weeks (sliding, see `session::UserSession::current_user_id`, which also caps the whole lifetime).
pub fn session_layer(
    store: CachedSessionStore,
    config: &Config,
) -> SessionManagerLayer<CachedSessionStore> {
    SessionManagerLayer::new(store)
        .with_name(session_cookie_name(config))
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.cookies_secure())
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::days(
            SESSION_IDLE_DAYS,
        )))
}
