//! Test harness: starts the real app and a stripe-sim on random ports with a fresh database.
//!
//! The backend comes from `STOREFRONT_TEST_DB` (`sqlite`, the default, or `postgres`); PostgreSQL
//! tests create a database of their own on `TEST_POSTGRES_URL` and drop it afterwards.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use storefront::config::Config;
use storefront::state::AppState;
use stripe_sim::{Sim, SimConfig};
use tokio::sync::oneshot;

pub const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
pub const PASSWORD: &str = "correct horse battery";
pub const CARD_OK: &str = "4242424242424242";
pub const CARD_DECLINED: &str = "4000000000000002";
pub const CARD_FAILS_ON_RENEWAL: &str = "4000000000000341";

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub state: AppState,
    pub sim: Arc<Sim>,
    database_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    /// Only the first instance owns (and drops) the database.
    database: Option<TestDatabase>,
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

/// A sim whose webhooks go to `app_base`, retried quickly so tests stay short.
async fn start_sim(app_base: &str) -> Sim {
    Sim::start(SimConfig {
        webhook_url: Some(format!("{app_base}/api/webhooks/stripe")),
        webhook_secret: Some("whsec_storefront_tests".into()),
        webhook_retry_base: Duration::from_millis(50),
        ..Default::default()
    })
    .await
    .expect("stripe-sim starts")
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// Starts the app (and a stripe-sim) with the test defaults plus `overrides` as environment variables.
    pub async fn spawn_with(overrides: &[(&str, &str)]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let sim = Arc::new(start_sim(&base).await);
        let (database_url, database) = fresh_database().await;
        let mut app = Self::start(listener, sim, database_url, overrides).await;
        app.database = Some(database);
        app
    }

    /// A second instance of the app on the same database and the same Stripe, with the same public
    /// `APP_URL` (a multi-instance deployment behind one address). Webhooks keep going to the first.
    pub async fn another_instance(&self) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let app_url = self.base.clone();
        Self::start(
            listener,
            self.sim.clone(),
            self.database_url.clone(),
            &[("APP_URL", app_url.as_str())],
        )
        .await
    }

    async fn start(
        listener: tokio::net::TcpListener,
        sim: Arc<Sim>,
        database_url: String,
        overrides: &[(&str, &str)],
    ) -> TestApp {
        let addr = listener.local_addr().expect("addr");
        let base = format!("http://{addr}");
        let mut vars: HashMap<String, String> = HashMap::from([
            ("APP_URL".into(), base.clone()),
            ("DATABASE_URL".into(), database_url.clone()),
            (
                "STRIPE_SECRET_KEY".into(),
                "sk_test_storefront_tests".into(),
            ),
            (
                "STRIPE_WEBHOOK_SECRET".into(),
                "whsec_storefront_tests".into(),
            ),
            ("STRIPE_API_BASE".into(), sim.base_url().to_owned()),
            ("BIND_ADDR".into(), addr.to_string()),
        ]);
        for (k, v) in overrides {
            vars.insert(k.to_string(), v.to_string());
        }
        let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("test config");
        // Logs only on request (TEST_LOG=1): the subscriber writes past the test harness's capture.
        if std::env::var_os("TEST_LOG").is_some() {
            storefront::server::telemetry::init(config.log_format);
        }
        let (router, state) = storefront::server::build(config).await.expect("app starts");
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        tokio::spawn(storefront::server::serve(listener, router, async move {
            let _ = shutdown_rx.await;
        }));
        TestApp {
            addr,
            base,
            state,
            sim,
            database_url,
            shutdown: Some(shutdown),
            database: None,
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

    pub async fn page(&self, client: &reqwest::Client, path: &str) -> String {
        let response = self.get(client, path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.expect("body")
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

    /// A signed-in browser for a new account.
    pub async fn new_user(&self, email: &str) -> reqwest::Client {
        let browser = self.browser();
        self.sign_up(&browser, email, PASSWORD).await;
        browser
    }

    pub fn price(&self, lookup_key: &str) -> String {
        self.sim
            .price_id(lookup_key)
            .unwrap_or_else(|| panic!("no price {lookup_key} in the sim catalog"))
    }

    /// Posts the pricing page's Subscribe form; returns the Checkout Session id the app sent us to.
    pub async fn start_checkout(&self, browser: &reqwest::Client, lookup_key: &str) -> String {
        let price = self.price(lookup_key);
        let response = self
            .post_form(
                browser,
                "/api/start_checkout",
                "/pricing",
                &[("price_id", price.as_str())],
            )
            .await;
        assert_eq!(response.status(), 303, "checkout answers 303");
        let to = location(&response);
        let prefix = format!("{}/checkout/", self.sim.base_url());
        to.strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("not a sim checkout URL: {to}"))
            .to_owned()
    }

    /// Pays a session as the hosted page does and returns the success URL it redirects to.
    pub fn pay(&self, session_id: &str, card: &str) -> String {
        match self
            .sim
            .pay_checkout(session_id, None, card)
            .expect("payment accepted")
        {
            stripe_sim::PayOutcome::Redirect(url) => url,
            other => panic!("unexpected payment outcome {other:?}"),
        }
    }

    /// Subscribes a new user to `lookup_key` with `card`, without visiting the success page.
    pub async fn subscriber(&self, email: &str, lookup_key: &str, card: &str) -> reqwest::Client {
        let browser = self.new_user(email).await;
        let session = self.start_checkout(&browser, lookup_key).await;
        self.pay(&session, card);
        browser
    }

    pub async fn settle_webhooks(&self) {
        assert!(
            self.sim.wait_for_deliveries(Duration::from_secs(20)).await,
            "webhooks settle in time"
        );
    }

    pub async fn role_of(&self, email: &str) -> String {
        sqlx::query_scalar::<_, String>("SELECT role FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&self.state.db.pool)
            .await
            .expect("user exists")
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&self.state.db.pool)
            .await
            .expect("count query")
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
        match self.database.take() {
            None => {}
            Some(TestDatabase::Sqlite(dir)) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Some(TestDatabase::Postgres { admin_url, name }) => {
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
