//! Assembles the application (the composition root: the one module that knows every feature's
//! state) and runs it.

pub mod client_ip;
pub mod security;
pub mod telemetry;

use crate::app::{App, shell};
use crate::auth::ssr::{
    AuthRateLimiter, AuthState, HashingGate, SessionStoreBackend, load_current_user, session_layer,
};
use crate::billing::ssr::Billing;
use crate::catalog::ssr::{CatalogStore, CatalogSyncReport};
use crate::config::Config;
use crate::db::Database;
use crate::error::AppResult;
use crate::state::AppState;
use crate::stripe_gateway::StripeGateway;
use crate::webhooks::WebhookState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{Router, middleware};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::LatencyUnit;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::ExpiredDeletion;

/// Forms and server-function calls are small; webhooks get their own limit on their route.
const REQUEST_BODY_LIMIT: usize = 64 * 1024;
const SESSION_SWEEP_EVERY: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    #[error("Stripe client: {0}")]
    Stripe(#[from] crate::stripe_gateway::GatewayError),
    #[error("{0}")]
    App(#[from] crate::error::AppError),
}

/// The infrastructure and every feature's state, built once per process.
#[derive(Clone)]
pub struct Services {
    pub state: AppState,
    pub billing: Billing,
    catalog: Arc<CatalogStore>,
    auth: Arc<AuthState>,
}

impl Services {
    /// Copies every product and price from Stripe; returns what was copied and the plans now on sale.
    pub async fn sync_catalog(&self) -> AppResult<(CatalogSyncReport, usize)> {
        let report = self
            .catalog
            .sync_from_stripe(&self.state.db, &self.state.gateway)
            .await?;
        Ok((report, self.catalog.current().plans.len()))
    }

    /// Puts the features' state into a page's or server function's context (`state::from_context`).
    fn provide_context(&self) {
        provide_context(self.state.db.clone());
        provide_context(self.catalog.clone());
        provide_context(self.billing.clone());
        provide_context(self.auth.clone());
        provide_context(crate::app::StripePageOrigins(
            self.state.config.stripe_page_origins().into(),
        ));
    }

    fn webhook_state(&self) -> WebhookState {
        WebhookState {
            billing: self.billing.clone(),
            catalog: self.catalog.clone(),
            gateway: self.state.gateway.clone(),
            db: self.state.db.clone(),
            livemode: self.state.config.stripe.mode == crate::config::StripeMode::Live,
            catalog_changes: Arc::default(),
        }
    }
}

/// Connects to the database (running migrations) and loads the catalog snapshot: everything the
/// server and the command-line tasks share.
pub async fn build_services(config: Config) -> Result<Services, StartupError> {
    let db = Database::connect(secrecy::ExposeSecret::expose_secret(&config.database_url)).await?;
    let leptos_options = LeptosOptions::builder()
        .output_name("storefront")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.bind_addr)
        .build();
    let gateway = Arc::new(StripeGateway::new(&config.stripe)?);
    let password_hashing = config.password_hashing;
    let config = Arc::new(config);
    let catalog = Arc::new(CatalogStore::default());
    catalog.reload(&db).await?;
    let billing = Billing::new(db.clone(), gateway.clone(), catalog.clone(), config.clone());
    Ok(Services {
        state: AppState {
            leptos_options,
            config,
            db,
            gateway,
        },
        billing,
        catalog,
        auth: Arc::new(AuthState {
            rate_limiter: AuthRateLimiter::default(),
            hashing: HashingGate::new(password_hashing),
        }),
    })
}

/// Builds the services and the router, and starts the background tasks of a serving instance.
pub async fn build(config: Config) -> Result<(Router, Services), StartupError> {
    let services = build_services(config).await?;
    let session_store = SessionStoreBackend::for_database(&services.state.db).await?;
    spawn_background_tasks(&services, &session_store).await;
    let router = routes(&services, session_store);
    Ok((router, services))
}

async fn spawn_background_tasks(services: &Services, session_store: &SessionStoreBackend) {
    // Not tower-sessions' own loop, which ends for good at its first error (security review L6).
    let store = session_store.clone();
    spawn_periodic("expired session sweep", SESSION_SWEEP_EVERY, move || {
        let store = store.clone();
        async move { store.delete_expired().await }
    });
    spawn_rate_limiter_cleanup(services.auth.clone());
    fill_empty_catalog(services).await;
    services
        .catalog
        .clone()
        .spawn_change_watcher(services.state.db.clone());
}

/// Pages and server functions (with sessions and the current user), probes, webhooks, and the
/// middleware every request goes through (outermost last).
fn routes(services: &Services, session_store: SessionStoreBackend) -> Router {
    let state = &services.state;
    let context_services = services.clone();
    let provide_services = move || context_services.provide_context();
    let shell_options = state.leptos_options.clone();
    let pages_and_server_fns = Router::new()
        .leptos_routes_with_context(
            state,
            generate_route_list(App),
            provide_services.clone(),
            move || shell(shell_options.clone()),
        )
        .route_layer(middleware::from_fn_with_state(
            state.db.clone(),
            load_current_user,
        ))
        .layer(session_layer(session_store, &state.config));
    let allowed_origins = Arc::new(security::AllowedOrigins::for_app(&state.config.app_url));
    let trusted_proxies = Arc::new(state.config.trusted_proxies.clone());
    let security_headers = Arc::new(security::security_headers(state.config.cookies_secure()));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .merge(pages_and_server_fns)
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_services, shell))
        .layer(RequestBodyLimitLayer::new(REQUEST_BODY_LIMIT))
        // Webhooks bring their own, larger body limit and skip the cross-site check (signed, not cookied).
        .merge(crate::webhooks::router(services.webhook_state()))
        .layer(middleware::from_fn_with_state(
            allowed_origins,
            security::refuse_cross_site_posts,
        ))
        .layer(middleware::from_fn_with_state(
            security_headers,
            security::add_security_headers,
        ))
        .layer(middleware::from_fn_with_state(
            trusted_proxies,
            client_ip::resolve_client_ip,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(telemetry::request_span)
                        .on_request(())
                        .on_response(
                            DefaultOnResponse::new()
                                .level(tracing::Level::INFO)
                                .latency_unit(LatencyUnit::Micros),
                        ),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CompressionLayer::new()),
        )
        .with_state(state.clone())
}

/// At start-up with an empty catalog (first run), copy it from Stripe. If Stripe cannot be reached,
/// the app still starts and keeps trying in the background; the pricing page says plans are coming.
async fn fill_empty_catalog(services: &Services) {
    if !services.catalog.current().plans.is_empty() {
        return;
    }
    match services.sync_catalog().await {
        Ok((report, _)) => tracing::info!(
            products = report.products,
            prices = report.prices,
            "catalog copied from Stripe"
        ),
        Err(error) => {
            tracing::warn!(%error, "catalog sync failed; retrying in the background");
            let services = services.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(30));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    match services.sync_catalog().await {
                        Ok(_) => break,
                        Err(error) => tracing::warn!(%error, "catalog sync failed again"),
                    }
                }
            });
        }
    }
}

async fn readyz(State(db): State<Database>) -> impl IntoResponse {
    if db.is_ready().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}

fn spawn_rate_limiter_cleanup(auth: Arc<AuthState>) {
    spawn_periodic("rate limiter cleanup", Duration::from_secs(60), move || {
        let auth = auth.clone();
        async move {
            auth.rate_limiter.forget_idle_keys();
            Ok::<(), std::convert::Infallible>(())
        }
    });
}

/// Runs `task` every `every` for the life of the process; a failed run is logged and the next one
/// runs as planned.
fn spawn_periodic<F, Fut, E>(
    name: &'static str,
    every: Duration,
    task: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), E>> + Send,
    E: std::fmt::Display,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = task().await {
                tracing::warn!(task = name, %error, "periodic task failed; it runs again next time");
            }
        }
    })
}

/// Serves on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // TCP_NODELAY: a response written as headers then body must not wait for the client's delayed ACK
    // (Nagle), which cost ~40 ms per static file on kept-alive connections.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Security review L6: one failed run does not end the task.
    #[tokio::test(start_paused = true)]
    async fn l6_a_periodic_task_keeps_running_after_an_error() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let task = spawn_periodic("test", Duration::from_secs(10), move || {
            let run = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if run == 0 {
                    Err("database busy")
                } else {
                    Ok(())
                }
            }
        });
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
        assert!(
            runs.load(Ordering::SeqCst) >= 3,
            "ran again after the error"
        );
        assert!(!task.is_finished());
        task.abort();
    }
}
