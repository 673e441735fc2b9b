//! The database: SQLite (default) or PostgreSQL, chosen by `DATABASE_URL`.
//!
//! Application queries go through one `AnyPool` with portable SQL (`$1` placeholders, `RETURNING`,
//! integer unix timestamps), so there is a single code path for both backends. The session store
//! needs a typed pool of its backend, which `Database::typed` keeps next to it.

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub enum TypedPool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, Clone)]
pub struct Database {
    pub pool: AnyPool,
    pub backend: Backend,
    pub typed: TypedPool,
}

/// Current time as unix seconds, the one timestamp format stored in the database.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

impl Database {
    /// The database's own time as unix seconds, in its dialect: the one clock every instance shares,
    /// for rows that instances compare with each other's (`cache_invalidations`; security review 2,
    /// L3: writers' and readers' clocks differed).
    pub fn now_sql(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "CAST(strftime('%s', 'now') AS INTEGER)",
            Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT)",
        }
    }

    /// Connects (creating the SQLite file and its directory if needed) and runs the migrations.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let acquire_timeout = Duration::from_secs(5);
        let (backend, typed, any_url) = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                // WAL is persistent in the file, so setting it here covers the AnyPool's connections too.
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5));
            if let Some(dir) = Path::new(options.get_filename()).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .acquire_timeout(acquire_timeout)
                .connect_with(options)
                .await?;
            (Backend::Sqlite, TypedPool::Sqlite(pool), url.to_owned())
        } else {
            let pool = PgPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(acquire_timeout)
                .connect(url)
                .await?;
            (Backend::Postgres, TypedPool::Postgres(pool), url.to_owned())
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(acquire_timeout)
            .connect(&any_url)
            .await?;
        let db = Database {
            pool,
            backend,
            typed,
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), sqlx::Error> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// True when the database answers a trivial query (readiness probe).
    pub async fn is_ready(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
        match &self.typed {
            TypedPool::Sqlite(p) => p.close().await,
            TypedPool::Postgres(p) => p.close().await,
        }
    }
}
