//! Test harness: starts the real app and a stripe-sim on random ports with a fresh database, plus
//! browser-like HTTP helpers. The domain steps (sign up, check out, pay, portal) are in `flows`;
//! the SMTP server every app sends to is in `maildev`; fresh databases are in `database`; signed
//! webhook deliveries are in `webhooks`; reading pages and form answers is in `pages`.

mod accounts;
mod database;
mod flows;
mod maildev;
mod pages;
mod shop;
mod webhooks;

pub use accounts::{follow_verification_link, mail_link, token_of};
pub use database::{TestDatabase, testing_postgres};
pub use flows::{portal_cancel, portal_switch, signed_in_cookie, signed_in_on};
pub use maildev::{Maildev, ReceivedMail, fixed_free_ports};
pub use pages::{cart_count, form_error, testid_text};
pub use shop::{US_ADDRESS, lookup_key_of, set_stock};
pub use webhooks::{
    deliver, deliver_in_bursts, event_json, signature_header, signed, v1_signature,
};

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use storefront::Billing;
use storefront::config::Config;
use storefront::state::AppState;
use stripe_sim::{Sim, SimConfig};
use tokio::sync::oneshot;

pub const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
pub const PASSWORD: &str = "correct horse battery";
pub const CARD_OK: &str = "4242424242424242";
pub const CARD_DECLINED: &str = "4000000000000002";
pub const CARD_FAILS_ON_RENEWAL: &str = "4000000000000341";
/// The Stripe secret key the app (and the tests, for the sim's API) use.
pub const STRIPE_SECRET_KEY: &str = "sk_test_storefront_tests";
pub const STRIPE_PUBLISHABLE_KEY: &str = "pk_test_storefront_tests";
/// The secret the sim signs webhooks with, and the app verifies them with.
pub const WEBHOOK_SECRET: &str = "whsec_storefront_tests";

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub billing: Billing,
    /// Every feature's state, for calling what a background task would (the order sweep).
    pub services: storefront::server::Services,
    pub sim: Arc<Sim>,
    /// Why the instance stopped serving on its own, if it did (`Services::fatal_errors`).
    pub fatal: tokio::sync::watch::Receiver<Option<String>>,
    database_url: String,
    /// Whether this app sends mail (its other instances do likewise).
    mail: bool,
    shutdown: Option<oneshot::Sender<()>>,
    /// Only the first instance owns (and drops) the database; the last field, so it is dropped
    /// after the shutdown is sent.
    database: Option<TestDatabase>,
}

/// An address no other test uses: mails in the shared maildev are told apart by recipient.
pub fn unique_email(prefix: &str) -> String {
    format!("{}@example.com", unique_name(prefix)).to_lowercase()
}

/// Checks `check` every 100 ms until it holds; fails with `what` after `within`.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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

/// A sim whose webhooks go to `app_base`, retried quickly so tests stay short.
async fn start_sim(app_base: &str, replay_seed_events: bool) -> Sim {
    Sim::start(SimConfig {
        webhook_url: Some(format!("{app_base}/api/webhooks/stripe")),
        webhook_secret: Some(WEBHOOK_SECRET.into()),
        webhook_retry_base: Duration::from_millis(50),
        replay_seed_events,
        ..Default::default()
    })
    .await
    .expect("stripe-sim starts")
}

/// What a test needs of its app, said where the test starts it. By default: no mail leaves the
/// outbox (rows are still written), and the sim does not replay its seed catalog's creation events
/// (the app copies the catalog at start-up anyway, so only catalog-webhook tests want them).
#[derive(Default)]
pub struct TestAppBuilder {
    env: Vec<(String, String)>,
    mail: bool,
    seed_events: bool,
}

impl TestAppBuilder {
    /// Mail is sent, to the shared maildev (or to the `SMTP_URL` given with `env`).
    pub fn mail(mut self) -> Self {
        self.mail = true;
        self
    }

    /// The sim sends the app its seed catalog's `product.created`/`price.created` events, as a new
    /// Stripe account's webhook endpoint would get them.
    pub fn seed_events(mut self) -> Self {
        self.seed_events = true;
        self
    }

    /// Environment variables over the test defaults.
    pub fn env(mut self, vars: &[(&str, &str)]) -> Self {
        self.env
            .extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self
    }

    pub async fn start(self) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        if self.mail {
            // The shared SMTP server first (the first test waits seconds for it): the sim starts
            // sending webhooks at once, and they should not pile up while the app is not serving.
            maildev::shared();
        }
        let sim = Arc::new(start_sim(&base, self.seed_events).await);
        let (database_url, database) = TestDatabase::fresh().await;
        let mut app = TestApp::start(listener, sim, database_url, self.mail, &self.env).await;
        app.database = Some(database);
        app
    }
}

impl TestApp {
    /// An app with the test defaults (see `TestAppBuilder`).
    pub async fn spawn() -> Self {
        Self::builder().start().await
    }

    /// An app with the test defaults plus `overrides` as environment variables.
    pub async fn spawn_with(overrides: &[(&str, &str)]) -> Self {
        Self::builder().env(overrides).start().await
    }

    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
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
            self.mail,
            &[("APP_URL".to_owned(), app_url)],
        )
        .await
    }

    async fn start(
        listener: tokio::net::TcpListener,
        sim: Arc<Sim>,
        database_url: String,
        mail: bool,
        overrides: &[(String, String)],
    ) -> TestApp {
        let addr = listener.local_addr().expect("addr");
        let base = format!("http://{addr}");
        let mut vars: HashMap<String, String> = HashMap::from([
            ("APP_URL".into(), base.clone()),
            ("DATABASE_URL".into(), database_url.clone()),
            ("STRIPE_SECRET_KEY".into(), STRIPE_SECRET_KEY.into()),
            (
                "STRIPE_PUBLISHABLE_KEY".into(),
                STRIPE_PUBLISHABLE_KEY.into(),
            ),
            ("STRIPE_WEBHOOK_SECRET".into(), WEBHOOK_SECRET.into()),
            ("STRIPE_API_BASE".into(), sim.base_url().to_owned()),
            ("BIND_ADDR".into(), addr.to_string()),
            // Retries after about a second, not 5 s, so that SMTP fault tests stay short.
            ("MAIL_RETRY_BASE_MS".into(), "200".into()),
        ]);
        if mail {
            vars.insert("SMTP_URL".into(), maildev::shared().smtp_url());
        } else {
            vars.insert("MAIL_DISABLED".into(), "1".into());
        }
        vars.extend(overrides.iter().cloned());
        let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("test config");
        // Logs only on request (TEST_LOG=1): the subscriber writes past the test harness's capture.
        if std::env::var_os("TEST_LOG").is_some() {
            storefront::server::telemetry::init(config.log_format);
        }
        let (router, services, startup) =
            storefront::server::build(config).await.expect("app starts");
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        tokio::spawn(storefront::server::serve(listener, router, async move {
            let _ = shutdown_rx.await;
        }));
        // Listening already; tests start once the first catalog copy has been tried.
        startup.finished().await;
        TestApp {
            base,
            state: services.state.clone(),
            billing: services.billing.clone(),
            fatal: services.fatal_errors(),
            services,
            sim,
            database_url,
            mail,
            shutdown: Some(shutdown),
            database: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The mails the shared maildev received for `address` (apps started with their own
    /// `SMTP_URL` ask their own `Maildev`).
    pub async fn mails_to(&self, address: &str) -> Vec<ReceivedMail> {
        maildev::shared().mails_to(address).await
    }

    /// Exactly `count` mails to `address` arrive in the shared maildev within 20 s, and no more.
    pub async fn exactly_mails_to(&self, address: &str, count: usize) -> Vec<ReceivedMail> {
        maildev::shared()
            .exactly(address, count, Duration::from_secs(20))
            .await
    }

    /// A URL on the sim (its Stripe API, hosted checkout and portal pages).
    pub fn stripe_url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    /// A client like a browser: keeps cookies, does not follow redirects (tests look at them).
    pub fn browser(&self) -> reqwest::Client {
        no_redirects().cookie_store(true).build().expect("client")
    }

    /// Posts a form the way a browser without JavaScript does: same-origin, accepting HTML.
    pub async fn post_form(
        &self,
        client: &reqwest::Client,
        path: &str,
        from_page: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        // The browser is on the public site (`APP_URL`), whichever instance serves the request.
        let public = self.state.config.app_origin();
        client
            .post(self.url(path))
            .header("accept", BROWSER_ACCEPT)
            .header("origin", &public)
            .header("referer", format!("{public}{from_page}"))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// Posts a form the way a script on our page does (`fetch`: no Accept: text/html, our Origin):
    /// the status code carries the result.
    pub async fn post_script(
        &self,
        client: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(self.url(path))
            .header("origin", self.state.config.app_origin())
            .form(form)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, client: &reqwest::Client, path: &str) -> reqwest::Response {
        get_url(client, &self.url(path)).await
    }

    pub async fn page(&self, client: &reqwest::Client, path: &str) -> String {
        let response = self.get(client, path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.expect("body")
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&self.state.db.pool)
            .await
            .expect("count query")
    }

    /// The one text value `sql` selects.
    pub async fn scalar_text(&self, sql: &str) -> String {
        sqlx::query_scalar::<_, String>(sql)
            .fetch_one(&self.state.db.pool)
            .await
            .expect("text query")
    }
}

/// A client builder that does not follow redirects: tests look at them.
pub fn no_redirects() -> reqwest::ClientBuilder {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none())
}

/// Gets an absolute URL (one the app redirected to, say) the way a browser does.
pub async fn get_url(client: &reqwest::Client, url: &str) -> reqwest::Response {
    client
        .get(url)
        .header("accept", BROWSER_ACCEPT)
        .send()
        .await
        .expect("request")
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
    // Under https the name carries the `__Host-` prefix.
    let is_session = |cookie: &&str| {
        cookie
            .split('=')
            .next()
            .is_some_and(|name| name.trim_start_matches("__Host-") == storefront::SESSION_COOKIE)
    };
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(is_session)
        .map(str::to_owned)
}

/// Runs the real binary with `args` and `vars`, and nothing inherited that could change the outcome:
/// a cleared environment (but `PATH`) and an empty working directory, so no `.env` file is read.
pub fn run_storefront(args: &[&str], vars: &[(&str, &str)]) -> std::process::Output {
    let dir = std::env::temp_dir().join(unique_name("storefront-bin"));
    std::fs::create_dir_all(&dir).expect("empty working directory");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_storefront"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(vars.iter().copied())
        .current_dir(&dir);
    let output = command.output();
    let _ = std::fs::remove_dir_all(&dir);
    output.expect("the storefront binary runs")
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
