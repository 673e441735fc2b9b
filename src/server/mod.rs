//! Assembles the axum application and runs it.

pub mod security;
pub mod telemetry;

use crate::app::{App, shell};
use crate::auth::ssr::{AuthRateLimiter, SessionStoreBackend, load_current_user, session_layer};
use crate::billing::ssr::KeyedLocks;
use crate::billing::ssr::stripe::StripeGateway;
use crate::catalog::ssr::CatalogStore;
use crate::config::Config;
use crate::db::Database;
use crate::state::AppState;
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

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    #[error("Stripe client: {0}")]
    Stripe(#[from] crate::billing::ssr::stripe::GatewayError),
    #[error("{0}")]
    App(#[from] crate::error::AppError),
}

/// Connects to the database (running migrations) and loads the catalog snapshot: everything the
/// server and the command-line tasks share.
pub async fn build_state(config: Config) -> Result<AppState, StartupError> {
    let db = Database::connect(&config.database_url).await?;
    let leptos_options = LeptosOptions::builder()
        .output_name("storefront")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.bind_addr)
        .build();
    let gateway = Arc::new(StripeGateway::new(&config.stripe)?);
    let catalog = Arc::new(CatalogStore::default());
    catalog.reload(&db).await?;
    Ok(AppState {
        leptos_options,
        config: Arc::new(config),
        db,
        rate_limiter: Arc::new(AuthRateLimiter::default()),
        gateway,
        catalog,
        customer_locks: Arc::new(KeyedLocks::default()),
    })
}

/// Builds the state and the router, and starts the background tasks of a serving instance.
pub async fn build(config: Config) -> Result<(Router, AppState), StartupError> {
    let state = build_state(config).await?;
    let config = state.config.clone();
    let session_store = SessionStoreBackend::for_database(&state.db).await?;
    tokio::spawn(
        session_store
            .clone()
            .continuously_delete_expired(Duration::from_secs(3600)),
    );
    spawn_rate_limiter_cleanup(state.rate_limiter.clone());
    fill_empty_catalog(&state).await;
    state.catalog.clone().spawn_change_watcher(state.db.clone());

    let context_state = state.clone();
    let provide_state = move || provide_context(context_state.clone());
    let shell_options = state.leptos_options.clone();
    let pages_and_server_fns = Router::new()
        .leptos_routes_with_context(
            &state,
            generate_route_list(App),
            provide_state.clone(),
            move || shell(shell_options.clone()),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            load_current_user,
        ))
        .layer(session_layer(session_store, &config));

    let app_origin: Arc<str> = config.app_origin().into();
    let security_headers = Arc::new(security::security_headers(config.cookies_secure()));
    let router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .merge(pages_and_server_fns)
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_state, shell))
        .layer(RequestBodyLimitLayer::new(REQUEST_BODY_LIMIT))
        // Webhooks bring their own, larger body limit and skip the cross-site check (signed, not cookied).
        .merge(crate::webhooks::router())
        .layer(middleware::from_fn_with_state(
            app_origin,
            security::refuse_cross_site_posts,
        ))
        .layer(middleware::from_fn_with_state(
            security_headers,
            security::add_security_headers,
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
        .with_state(state.clone());
    Ok((router, state))
}

/// At start-up with an empty catalog (first run), copy it from Stripe. If Stripe cannot be reached,
/// the app still starts and keeps trying in the background; the pricing page says plans are coming.
async fn fill_empty_catalog(state: &AppState) {
    if !state.catalog.current().plans.is_empty() {
        return;
    }
    let sync = |state: AppState| async move {
        state
            .catalog
            .sync_from_stripe(&state.db, &state.gateway)
            .await
    };
    match sync(state.clone()).await {
        Ok((products, prices)) => tracing::info!(products, prices, "catalog copied from Stripe"),
        Err(error) => {
            tracing::warn!(%error, "catalog sync failed; retrying in the background");
            let state = state.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(30));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    match sync(state.clone()).await {
                        Ok(_) => break,
                        Err(error) => tracing::warn!(%error, "catalog sync failed again"),
                    }
                }
            });
        }
    }
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.db.is_ready().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}

fn spawn_rate_limiter_cleanup(limiter: Arc<AuthRateLimiter>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limiter.forget_idle_keys();
        }
    });
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
