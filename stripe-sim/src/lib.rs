//! stripe-sim: an offline, Stripe-compatible HTTP simulator for development and tests.
//!
//! Start it with [`Sim::start`], point async-stripe at [`Sim::base_url`] and drive the hosted
//! Checkout/Portal pages over HTTP. Webhooks are signed like Stripe's; the test clock and the
//! fault switches are reachable both over HTTP (`/_sim/…`) and through [`Sim`] methods.

#![recursion_limit = "256"]

mod admin;
mod api;
mod billing;
mod catalog;
mod clock;
mod faults;
mod form;
mod http;
mod objects;
mod pages;
mod state;
mod time;
mod webhooks;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use billing::checkout::PayOutcome;
pub use catalog::DEFAULT_CATALOG;
pub use faults::Faults;
pub use http::ApiError;
pub use state::{API_VERSION, Delivery};

use webhooks::Msg;

/// Where the seed catalog comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CatalogSource {
    /// The catalog shipped with the crate (`stripe-sim/catalog.toml`).
    #[default]
    Default,
    /// A TOML file in the same format.
    Path(PathBuf),
    /// TOML text.
    Toml(String),
    /// No products or prices.
    Empty,
}

/// How to run a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// A webhook endpoint configured at start (like `stripe listen --forward-to`).
    pub webhook_url: Option<String>,
    /// Its signing secret; generated (`whsec_…`) when absent.
    pub webhook_secret: Option<String>,
    pub catalog: CatalogSource,
    /// Delivery attempts per event and endpoint, the first included.
    pub webhook_max_attempts: u32,
    /// Delay before the first retry; doubles on each further retry.
    pub webhook_retry_base: Duration,
    /// Per-attempt timeout of a delivery.
    pub webhook_timeout: Duration,
    /// Start of the sim clock (unix seconds); the wall clock when `None`.
    pub start_time: Option<i64>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            port: 0,
            webhook_url: None,
            webhook_secret: None,
            catalog: CatalogSource::Default,
            webhook_max_attempts: 6,
            webhook_retry_base: Duration::from_secs(1),
            webhook_timeout: Duration::from_secs(10),
            start_time: None,
        }
    }
}

/// Why the sim could not start or an admin call failed.
#[derive(Debug)]
pub enum SimError {
    Io(std::io::Error),
    Catalog(String),
    Api(ApiError),
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "stripe-sim I/O error: {e}"),
            Self::Catalog(e) => write!(f, "stripe-sim catalog error: {e}"),
            Self::Api(e) => write!(f, "stripe-sim error: {}", e.message),
        }
    }
}

impl std::error::Error for SimError {}

impl From<ApiError> for SimError {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

/// State shared by the HTTP handlers, the dispatcher and the delivery tasks.
pub(crate) struct Shared {
    state: Mutex<state::State>,
    faults: Mutex<Faults>,
    idem: Mutex<http::IdemStore>,
    tx: UnboundedSender<Msg>,
    /// Events and deliveries not finished yet (queued, in flight, or waiting to retry).
    pending: AtomicUsize,
    config: SimConfig,
    http: reqwest::Client,
    shutdown: watch::Sender<bool>,
}

impl Shared {
    /// Runs `f` on the state, then hands the events it created to the dispatcher.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut state::State) -> T) -> T {
        let (out, outbox) = {
            let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            let out = f(&mut st);
            (out, std::mem::take(&mut st.outbox))
        };
        for o in outbox {
            self.pending.fetch_add(1, Ordering::SeqCst);
            if self.tx.send(Msg::Out(o)).is_err() {
                self.pending.fetch_sub(1, Ordering::SeqCst);
            }
        }
        out
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&state::State) -> T) -> T {
        f(&self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn faults_mut<T>(&self, f: impl FnOnce(&mut Faults) -> T) -> T {
        f(&mut self.faults.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn idem<T>(&self, f: impl FnOnce(&mut http::IdemStore) -> T) -> T {
        f(&mut self.idem.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn reset_faults(&self) {
        self.faults_mut(|f| *f = Faults::default());
        let _ = self.tx.send(Msg::Flush);
    }

    pub(crate) fn flush_shuffled(&self) {
        self.faults_mut(|f| f.shuffle_next = 0);
        let _ = self.tx.send(Msg::Flush);
    }

    /// Sleeps unless the sim shuts down first; returns false on shutdown.
    pub(crate) async fn sleep(&self, d: Duration) -> bool {
        let mut rx = self.shutdown.subscribe();
        if *rx.borrow() {
            return false;
        }
        tokio::select! {
            () = tokio::time::sleep(d) => true,
            _ = rx.changed() => false,
        }
    }
}

/// A running simulator. Dropping it stops the server too; [`Sim::shutdown`] also waits.
pub struct Sim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    base_url: String,
    server: Option<JoinHandle<()>>,
    dispatcher: JoinHandle<()>,
    env_endpoint: Option<String>,
}

fn load_catalog(src: &CatalogSource) -> Result<Option<catalog::Catalog>, SimError> {
    let text = match src {
        CatalogSource::Default => DEFAULT_CATALOG.to_owned(),
        CatalogSource::Path(p) => std::fs::read_to_string(p)
            .map_err(|e| SimError::Catalog(format!("{}: {e}", p.display())))?,
        CatalogSource::Toml(t) => t.clone(),
        CatalogSource::Empty => return Ok(None),
    };
    catalog::Catalog::parse(&text)
        .map(Some)
        .map_err(SimError::Catalog)
}

impl Sim {
    /// Binds 127.0.0.1:`port`, seeds the catalog and starts serving.
    pub async fn start(config: SimConfig) -> Result<Sim, SimError> {
        let seed = load_catalog(&config.catalog)?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(SimError::Io)?;
        let addr = listener.local_addr().map_err(SimError::Io)?;
        let base_url = format!("http://{addr}");
        let http = reqwest::Client::builder()
            .timeout(config.webhook_timeout)
            .build()
            .map_err(|e| SimError::Io(std::io::Error::other(e)))?;
        let (tx, rx) = unbounded_channel();
        let (shutdown, _) = watch::channel(false);
        let mut st = state::State::new(
            config.start_time.unwrap_or_else(time::wall_clock),
            base_url.clone(),
        );
        if let Some(c) = &seed {
            c.seed(&mut st);
        }
        // Seed events have no endpoint yet; endpoints added later get them replayed.
        st.outbox.clear();
        let shared = Arc::new(Shared {
            state: Mutex::new(st),
            faults: Mutex::new(Faults::default()),
            idem: Mutex::new(Default::default()),
            tx,
            pending: AtomicUsize::new(0),
            config: config.clone(),
            http,
            shutdown,
        });
        let dispatcher = tokio::spawn(webhooks::dispatcher(shared.clone(), rx));
        let env_endpoint = config.webhook_url.clone().map(|url| {
            shared.with(|st| api::add_endpoint(st, url, config.webhook_secret.clone(), Vec::new()))
        });
        let app = api::router(shared.clone()).merge(
            axum::Router::new()
                .merge(admin::routes())
                .merge(clock::routes())
                .merge(faults::routes())
                .merge(pages::routes())
                .with_state(shared.clone()),
        );
        let mut stop = shared.shutdown.subscribe();
        let server = tokio::spawn(async move {
            let graceful = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(graceful)
                .await
            {
                tracing::error!(error = %e, "stripe-sim server stopped");
            }
        });
        tracing::info!(%base_url, "stripe-sim listening");
        Ok(Sim {
            shared,
            addr,
            base_url,
            server: Some(server),
            dispatcher,
            env_endpoint,
        })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash): use as async-stripe's base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server and all delivery tasks and waits for the server to finish.
    pub async fn shutdown(mut self) {
        let _ = self.shared.shutdown.send(true);
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
        }
        self.dispatcher.abort();
    }

    /// Id (`we_…`) of the endpoint configured through [`SimConfig::webhook_url`].
    pub fn webhook_endpoint_id(&self) -> Option<&str> {
        self.env_endpoint.as_deref()
    }

    /// Signing secret of the endpoint configured through [`SimConfig::webhook_url`].
    pub fn webhook_secret(&self) -> Option<String> {
        let id = self.env_endpoint.as_deref()?;
        self.shared.read(|st| {
            st.endpoints
                .iter()
                .find(|e| e.id == id)
                .map(|e| e.secret.clone())
        })
    }

    /// Adds an endpoint for every event type; returns (`we_…` id, `whsec_…` secret). The seed
    /// catalog's `product.created`/`price.created` events are delivered to it.
    pub fn add_webhook_endpoint(&self, url: &str, secret: Option<&str>) -> (String, String) {
        self.shared.with(|st| {
            let id = api::add_endpoint(st, url.to_owned(), secret.map(str::to_owned), Vec::new());
            let secret = st
                .endpoints
                .iter()
                .find(|e| e.id == id)
                .map(|e| e.secret.clone())
                .unwrap_or_default();
            (id, secret)
        })
    }

    /// The sim clock (unix seconds).
    pub fn now(&self) -> i64 {
        self.shared.read(|st| st.now)
    }

    /// Moves the clock forward, running renewals, retries and cancellations on the way.
    pub fn advance_clock(&self, by: Duration) -> Result<i64, SimError> {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX / 2);
        self.shared
            .with(|st| {
                let target = st.now.saturating_add(secs);
                clock::advance_to(st, target).map(|()| st.now)
            })
            .map_err(SimError::from)
    }

    pub fn advance_clock_to(&self, unix: i64) -> Result<i64, SimError> {
        self.shared
            .with(|st| clock::advance_to(st, unix).map(|()| st.now))
            .map_err(SimError::from)
    }

    /// Every delivery attempt so far, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.read(|st| st.deliveries.clone())
    }

    /// Every event so far as Stripe JSON, oldest first.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.shared
            .read(|st| st.events.iter().map(objects::event).collect())
    }

    /// Id of the seeded (or created) price with this lookup key.
    pub fn price_id(&self, lookup_key: &str) -> Option<String> {
        self.shared.read(|st| {
            st.prices
                .iter()
                .find(|p| p.lookup_key.as_deref() == Some(lookup_key))
                .map(|p| p.id.clone())
        })
    }

    /// Waits until every event has been delivered or given up on; false on timeout.
    pub async fn wait_for_deliveries(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.shared.pending.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Pays a Checkout Session as the hosted page would (`card` is a test card number).
    pub fn pay_checkout(
        &self,
        session: &str,
        email: Option<&str>,
        card: &str,
    ) -> Result<PayOutcome, ApiError> {
        self.shared
            .with(|st| billing::checkout::pay(st, session, email, card))
    }

    /// Completes (or fails) the 3-D Secure step of a session paid with 4000000000003220.
    pub fn authenticate_checkout(
        &self,
        session: &str,
        approve: bool,
    ) -> Result<PayOutcome, ApiError> {
        self.shared
            .with(|st| billing::checkout::authenticate(st, session, approve))
    }

    pub fn faults(&self) -> Faults {
        self.shared.faults_mut(|f| f.clone())
    }
    pub fn duplicate_next_events(&self, n: usize) {
        self.shared.faults_mut(|f| f.duplicate_next = n);
    }
    /// Holds the next `n` events and then delivers them in reverse order.
    pub fn shuffle_next_events(&self, n: usize) {
        self.shared.faults_mut(|f| {
            f.shuffle_next = n;
            f.shuffle_batch = n;
        });
    }
    /// Releases events held by [`Sim::shuffle_next_events`] before the batch is full.
    pub fn release_shuffled(&self) {
        self.shared.flush_shuffled();
    }
    pub fn delay_deliveries(&self, d: Duration) {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        self.shared.faults_mut(|f| f.delivery_delay_ms = ms);
    }
    /// Fails the next `n` delivery attempts (to `endpoint`, or to any endpoint) with a 500.
    pub fn fail_next_deliveries(&self, n: usize, endpoint: Option<&str>) {
        self.shared.faults_mut(|f| match endpoint {
            Some(e) => {
                f.fail_deliveries_for.insert(e.to_owned(), n);
            }
            None => f.fail_deliveries = n,
        });
    }
    /// Answers the next `n` API calls with `status` (500 or 429).
    pub fn fail_next_api_calls(&self, n: usize, status: u16) {
        self.shared.faults_mut(|f| {
            f.api_errors = n;
            f.api_error_status = status;
        });
    }
    pub fn set_api_latency(&self, d: Duration) {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        self.shared.faults_mut(|f| f.api_latency_ms = ms);
    }
    /// Clears every fault switch and releases held events.
    pub fn reset_faults(&self) {
        self.shared.reset_faults();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.shared.shutdown.send(true);
        self.dispatcher.abort();
    }
}
