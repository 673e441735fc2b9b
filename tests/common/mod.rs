//! Test harness: starts the real app on a random port with a fresh database.
//!
//! The backend comes from `STOREFRONT_TEST_DB` (`sqlite`, the default, or `postgres`); PostgreSQL
//! tests create a database of their own on `TEST_POSTGRES_URL` and drop it afterwards.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use storefront::config::Config;
use tokio::sync::oneshot;

pub const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    shutdown: Option<oneshot::Sender<()>>,
    database: TestDatabase,
}

enum TestDatabase {
    Sqlite(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

async fn fresh_database() -> (String, TestDatabase) {
    match std::env::var("STOREFRONT_TEST_DB").as_deref() {
        Ok("postgres") => {
            let admin_url = postgres_admin_url();
            let name = unique_name("storefront_test");
            let admin = sqlx::PgPool::connect(&admin_url)
                .await
                .expect("connect to TEST_POSTGRES_URL");
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
        _ => {
            let dir = std::env::temp_dir().join(unique_name("storefront-test"));
            std::fs::create_dir_all(&dir).expect("temp dir");
            (
                format!("sqlite://{}/app.db", dir.display()),
                TestDatabase::Sqlite(dir),
            )
        }
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// Starts the app with the test defaults plus `overrides` as environment variables.
    pub async fn spawn_with(overrides: &[(&str, &str)]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let base = format!("http://{addr}");
        let (database_url, database) = fresh_database().await;

        let mut vars: HashMap<String, String> = HashMap::from([
            ("APP_URL".into(), base.clone()),
            ("DATABASE_URL".into(), database_url),
            (
                "STRIPE_SECRET_KEY".into(),
                "sk_test_storefront_tests".into(),
            ),
            (
                "STRIPE_WEBHOOK_SECRET".into(),
                "whsec_storefront_tests".into(),
            ),
            ("BIND_ADDR".into(), addr.to_string()),
        ]);
        for (k, v) in overrides {
            vars.insert(k.to_string(), v.to_string());
        }
        let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("test config");
        storefront::server::telemetry::init(config.log_format);
        let (router, _state) = storefront::server::build(config).await.expect("app starts");
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        tokio::spawn(storefront::server::serve(listener, router, async move {
            let _ = shutdown_rx.await;
        }));
        TestApp {
            addr,
            base,
            shutdown: Some(shutdown),
            database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client like a browser: keeps cookies, does not follow redirects (tests look at them).
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// Posts a form the way a browser without JavaScript does: same-origin, accepting HTML.
    pub async fn post_form(
        &self,
        client: &reqwest::Client,
        path: &str,
        from_page: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(self.url(path))
            .header("accept", BROWSER_ACCEPT)
            .header("origin", &self.base)
            .header("referer", self.url(from_page))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// Posts a form the way a script does (no Accept: text/html): the status code carries the result.
    pub async fn post_script(
        &self,
        client: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, client: &reqwest::Client, path: &str) -> reqwest::Response {
        client
            .get(self.url(path))
            .header("accept", BROWSER_ACCEPT)
            .send()
            .await
            .expect("request")
    }

    /// Creates an account and leaves `client` signed in.
    pub async fn sign_up(&self, client: &reqwest::Client, email: &str, password: &str) {
        let response = self
            .post_form(
                client,
                "/api/signup",
                "/signup",
                &[("email", email), ("password", password)],
            )
            .await;
        assert_eq!(response.status(), 302, "sign-up should redirect");
        assert_eq!(location(&response), "/dashboard");
    }
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The value of the session cookie a response sets, if any.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("storefront_session="))
        .map(str::to_owned)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match &self.database {
            TestDatabase::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            TestDatabase::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime, which must not block: use a runtime of our own.
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
