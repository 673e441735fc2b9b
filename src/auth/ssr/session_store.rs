//! tower-sessions with its sqlx stores. The store type follows the database backend, so this enum
//! forwards to the SQLite or PostgreSQL store of `tower-sessions-sqlx-store`; `CachedSessionStore`
//! puts the in-process cache (`cache::AuthCache`) in front of it.

use super::cache::{AuthCache, announce_deleted_session};
use crate::config::Config;
use crate::db::{Database, TypedPool};
use async_trait::async_trait;
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

#[derive(Debug, Clone)]
pub enum SessionStoreBackend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl SessionStoreBackend {
    /// Creates the store's table if needed.
    pub async fn for_database(db: &Database) -> Result<Self, sqlx::Error> {
        Ok(match &db.typed {
            TypedPool::Sqlite(pool) => {
                let store = SqliteStore::new(pool.clone());
                store.migrate().await?;
                SessionStoreBackend::Sqlite(store)
            }
            TypedPool::Postgres(pool) => {
                let store = PostgresStore::new(pool.clone());
                store.migrate().await?;
                SessionStoreBackend::Postgres(store)
            }
        })
    }
}

#[async_trait]
impl SessionStore for SessionStoreBackend {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.create(record).await,
            Self::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.save(record).await,
            Self::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Sqlite(s) => s.load(id).await,
            Self::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.delete(id).await,
            Self::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for SessionStoreBackend {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.delete_expired().await,
            Self::Postgres(s) => s.delete_expired().await,
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
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let epoch = self.cache.epoch();
        self.store.save(record).await?;
        self.cache.keep_session(record, epoch);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        if let Some(record) = self.cache.session(id) {
            return Ok(Some(record));
        }
        let epoch = self.cache.epoch();
        let record = self.store.load(id).await?;
        if let Some(record) = &record {
            self.cache.keep_session(record, epoch);
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.cache.forget_session(id);
        self.store.delete(id).await?;
        announce_deleted_session(&self.db, id)
            .await
            .map_err(backend_error)
    }
}

/// HttpOnly, SameSite=Lax, and under https Secure with the `__Host-` prefix; expires after two idle
/// weeks (sliding, see `session::UserSession::current_user_id`, which also caps the whole lifetime).
pub fn session_layer(
    store: CachedSessionStore,
    config: &Config,
) -> SessionManagerLayer<CachedSessionStore> {
    SessionManagerLayer::new(store)
        .with_name(if config.cookies_secure() {
            HOST_ONLY_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        })
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.cookies_secure())
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::days(
            SESSION_IDLE_DAYS,
        )))
}
