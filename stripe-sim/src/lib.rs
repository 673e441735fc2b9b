//! stripe-sim: an offline, Stripe-compatible HTTP simulator for development and tests.
//!
//! Start it with [`Sim::start`], point async-stripe at [`Sim::base_url`] and drive the hosted
//! Checkout/Portal pages over HTTP. Webhooks are signed like Stripe's; the test clock and the
//! fault switches are reachable both over HTTP (`/_sim/…`) and through [`Sim`]: its methods,
//! [`Sim::faults`] and [`Sim::act`] (what the hosted pages and the Dashboard do).

#![recursion_limit = "256"]

mod actions;
mod admin;
mod api;
mod auth;
mod billing;
mod clock;
mod config;
mod error;
mod fault_switches;
mod faults;
mod form;
mod http;
mod idempotency;
mod model;
mod money;
mod pages;
mod render;
mod seed;
mod shared;
mod store;
mod stripe_js;
mod time;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc::unbounded_channel;
use tokio::task::JoinHandle;

pub use actions::Actions;
pub use billing::checkout::PayOutcome;
pub use billing::shipping::ShippingChoice;
pub use config::{SimConfig, SimError};
pub use error::ApiError;
pub use fault_switches::FaultSwitches;
pub use faults::ApiGate;
pub use model::{API_VERSION, DEFAULT_ACCOUNT_ID, Delivery};
pub use seed::{CatalogSource, DEFAULT_CATALOG};

use shared::Shared;
use store::Store;

/// A running simulator. Dropping it stops the server too; [`Sim::shutdown`] also waits.
pub struct Sim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    base_url: String,
    server: Option<JoinHandle<()>>,
    dispatcher: JoinHandle<()>,
    env_endpoint: Option<String>,
}

/// A store at the configured start time with the account and the seed catalog in it.
fn seeded_store(
    config: &SimConfig,
    account_id: String,
    base_url: &str,
    seed: Option<&seed::Catalog>,
) -> Store {
    let mut store = Store::new(
        config.start_time.unwrap_or_else(time::wall_clock),
        base_url.to_owned(),
    );
    store.account = model::Account {
        id: account_id,
        created: store.now,
    };
    if let Some(catalog) = seed {
        catalog.seed(&mut store);
    }
    // Seed events have no endpoint yet; endpoints added later get them replayed, if wanted.
    store.outbox.clear();
    if !config.replay_seed_events {
        store.seed_events.clear();
    }
    store
}

/// `/v1` (with its middleware), the hosted pages, Stripe.js (`/v3`) and `/_sim` admin endpoints.
fn app(shared: Arc<Shared>) -> axum::Router {
    api::router(shared.clone()).merge(
        axum::Router::new()
            .merge(admin::routes())
            .merge(pages::routes())
            .merge(stripe_js::routes())
            .with_state(shared),
    )
}

async fn serve(
    listener: TcpListener,
    app: axum::Router,
    stop: impl Future<Output = ()> + Send + 'static,
) {
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
    {
        tracing::error!(error = %e, "stripe-sim server stopped");
    }
}

impl Sim {
    /// Binds 127.0.0.1:`port`, seeds the catalog and starts serving.
    pub async fn start(config: SimConfig) -> Result<Sim, SimError> {
        let seed = seed::Catalog::load(&config.catalog).map_err(SimError::Catalog)?;
        let account_id = config.account_id()?;
        let listener = TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(SimError::Io)?;
        let addr = listener.local_addr().map_err(SimError::Io)?;
        let base_url = format!("http://{addr}");
        let http = reqwest::Client::builder()
            .timeout(config.webhook_timeout)
            .build()
            .map_err(|e| SimError::Io(std::io::Error::other(e)))?;
        let store = seeded_store(&config, account_id, &base_url, seed.as_ref());
        let (tx, rx) = unbounded_channel();
        let shared = Arc::new(Shared::new(store, config.delivery_policy(), http, tx));
        let dispatcher = tokio::spawn(webhooks::dispatcher(shared.clone(), rx));
        let env_endpoint = config.webhook_url.clone().map(|url| {
            let secret = config.webhook_secret.clone();
            shared.with(|store| webhooks::add_endpoint(store, url, secret, Vec::new()))
        });
        let server = tokio::spawn(serve(
            listener,
            app(shared.clone()),
            shared.shutdown_signal(),
        ));
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
        self.shared.shut_down();
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
        }
        self.dispatcher.abort();
    }

    /// Id (`we_…`) of the endpoint configured through [`SimConfig::webhook_url`].
    pub fn webhook_endpoint_id(&self) -> Option<&str> {
        self.env_endpoint.as_deref()
    }

    /// The `acct_…` id `GET /v1/account` answers (see [`SimConfig::account_id`]).
    pub fn account_id(&self) -> String {
        self.shared.read(|store| store.account.id.clone())
    }

    /// Signing secret of the endpoint configured through [`SimConfig::webhook_url`].
    pub fn webhook_secret(&self) -> Option<String> {
        let id = self.env_endpoint.as_deref()?;
        self.shared.read(|store| {
            store
                .endpoints
                .iter()
                .find(|e| e.id == id)
                .map(|e| e.secret.clone())
        })
    }

    /// Adds an endpoint for every event type; returns (`we_…` id, `whsec_…` secret). The seed
    /// catalog's `product.created`/`price.created` events are delivered to it unless
    /// [`SimConfig::replay_seed_events`] is off.
    pub fn add_webhook_endpoint(&self, url: &str, secret: Option<&str>) -> (String, String) {
        self.shared.with(|store| {
            let id = webhooks::add_endpoint(
                store,
                url.to_owned(),
                secret.map(str::to_owned),
                Vec::new(),
            );
            let secret = store
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
        self.shared.read(|store| store.now)
    }

    /// Moves the clock forward, running renewals, retries and cancellations on the way.
    pub fn advance_clock(&self, by: Duration) -> Result<i64, SimError> {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX / 2);
        self.shared
            .with(|store| {
                let target = store.now.saturating_add(secs);
                clock::advance_to(store, target).map(|()| store.now)
            })
            .map_err(SimError::from)
    }

    pub fn advance_clock_to(&self, unix: i64) -> Result<i64, SimError> {
        self.shared
            .with(|store| clock::advance_to(store, unix).map(|()| store.now))
            .map_err(SimError::from)
    }

    /// Every delivery attempt so far, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.read(|store| store.deliveries.clone())
    }

    /// How many `/v1` API requests the sim has received.
    pub fn api_requests(&self) -> usize {
        self.shared.api_requests()
    }

    /// Every event so far as Stripe JSON, oldest first.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.shared
            .read(|store| store.events.iter().map(render::event).collect())
    }

    /// Id of the seeded (or created) price with this lookup key.
    pub fn price_id(&self, lookup_key: &str) -> Option<String> {
        self.shared.read(|store| {
            store
                .prices
                .iter()
                .find(|p| p.lookup_key.as_deref() == Some(lookup_key))
                .map(|p| p.id.clone())
        })
    }

    /// Waits until every event has been delivered or given up on; false on timeout.
    pub async fn wait_for_deliveries(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.shared.pending() == 0 {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Actions as if from the hosted pages or the Dashboard (paying a session, confirming an
    /// intent, refunding, deleting a customer).
    pub fn act(&self) -> Actions<'_> {
        Actions {
            shared: &self.shared,
        }
    }

    /// The fault switches (webhook duplication, reordering, delays and failures; API errors,
    /// latency and the gate that holds API calls).
    pub fn faults(&self) -> FaultSwitches<'_> {
        FaultSwitches {
            shared: &self.shared,
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.shared.shut_down();
        self.dispatcher.abort();
    }
}
