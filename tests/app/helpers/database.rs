//! Fresh databases for tests: a SQLite file in a temporary directory, or a PostgreSQL database of
//! its own on `TEST_POSTGRES_URL`'s server. Dropping a `TestDatabase` removes it.

use super::unique_name;
use std::path::PathBuf;

pub enum TestDatabase {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

/// True when this run tests PostgreSQL (`STOREFRONT_TEST_DB=postgres`), else SQLite.
pub fn testing_postgres() -> bool {
    std::env::var("STOREFRONT_TEST_DB").as_deref() == Ok("postgres")
}

fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDatabase {
    /// A database of the backend under test (`STOREFRONT_TEST_DB`), and its `DATABASE_URL`.
    pub async fn fresh() -> (String, TestDatabase) {
        if testing_postgres() {
            Self::postgres().await
        } else {
            Self::sqlite()
        }
    }

    pub fn sqlite() -> (String, TestDatabase) {
        let dir = std::env::temp_dir().join(unique_name("storefront-test"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        (
            format!("sqlite://{}/app.db", dir.display()),
            TestDatabase::Sqlite(dir),
        )
    }

    pub async fn postgres() -> (String, TestDatabase) {
        let admin_url = postgres_admin_url();
        let name = unique_name("storefront_test");
        let admin = sqlx::PgPool::connect(&admin_url)
            .await
            .expect("connect to TEST_POSTGRES_URL");
        // An identifier, which cannot be a bound parameter; `unique_name` makes it safe.
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .expect("create test database");
        admin.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b.to_owned())
            .unwrap_or(admin_url.clone());
        (
            format!("{base}/{name}"),
            TestDatabase::Postgres { admin_url, name },
        )
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            TestDatabase::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            TestDatabase::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop may run inside a test's runtime, which must not block: use a runtime of our own.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    runtime.block_on(async {
                        let admin = sqlx::PgPool::connect(&admin_url).await.ok()?;
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&admin)
                            .await
                            .ok()
                    })
                })
                .join();
            }
        }
    }
}
