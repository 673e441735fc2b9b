//! Assembles the application (the composition root: the one module that knows every feature's
//! state) and runs it.

mod assets;
mod background;
pub mod client_ip;
mod page_cache;
mod serve;

pub use serve::{serve, shutdown_signal};
pub mod security;
pub mod telemetry;

use crate::account::ssr::AccountServices;
use crate::app::{App, shell};
use crate::auth::ssr::{
    AuthCache, AuthRateLimiter, AuthState, CachedSessionStore, HashingGate, SessionStoreBackend,
    UserPages, fresh_sessions_for_writes, load_current_user, session_cookie_name, session_layer,
};
use crate::billing::ssr::Billing;
use crate::catalog::ssr::{CatalogStore, CatalogSyncReport};
use crate::config::Config;
use crate::customers::Customers;
use crate::db::Database;
use crate::error::AppResult;
use crate::installation::Installation;
use crate::mail::MailWorker;
use crate::shop::ssr::{Shop, load_cart_count};
use crate::state::AppState;
use crate::stripe_gateway::{StripeBudget, StripeGateway};
use crate::webhooks::WebhookState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Router, middleware};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::LatencyUnit;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

/// Forms and server-function calls are small; webhooks get their own limit on their route.
const REQUEST_BODY_LIMIT: usize = 64 * 1024;
/// No request is worked on longer than this (L15); above the sync deadline, so a sync fails first
/// with its own, clearer error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// brotli 1 and gzip 1 for what is compressed per response. On a 6.5 KB page: brotli 1 about 80 µs
/// for 2.3 KB, brotli 4 220 µs for 2.0 KB, brotli 11 (tower-http's default) 17 ms for 1.6 KB; gzip 1
/// 50 µs for 2.3 KB. A few hundred bytes are not worth several times the page's own cost.
const PER_RESPONSE_LEVEL: i32 = 1;

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
    #[error("{0}")]
    Installation(#[from] crate::installation::InstallationError),
}

/// The infrastructure and every feature's state, built once per process.
#[derive(Clone)]
pub struct Services {
    pub state: AppState,
    pub billing: Billing,
    pub shop: Shop,
    account: AccountServices,
    catalog: Arc<CatalogStore>,
    auth: Arc<AuthState>,
    installation: Arc<Installation>,
    /// The per-user Stripe budget billing and the shop share (its idle keys are forgotten here).
    budget: Arc<StripeBudget>,
    /// The browser bundle's names (hashed by a release build) and the CSP hashes of the shell's
    /// inline scripts, which name them.
    bundle: assets::Bundle,
    inline_scripts: crate::csp::InlineScriptHashes,
    /// Set when a background check finds that this process must not go on serving (the Stripe
    /// account is not the one the database was filled from); `serve` then stops.
    fatal: tokio::sync::watch::Sender<Option<String>>,
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
        provide_context(self.shop.clone());
        provide_context(self.auth.clone());
        provide_context(self.account.clone());
        provide_context(crate::csp::StripePageOrigins(
            self.state.config.stripe_page_origins().into(),
        ));
        provide_context(self.inline_scripts.clone());
        provide_context(crate::app::StylesheetHref(self.bundle.stylesheet.clone()));
        // Replaces the per-response nonce leptos_axum provides: scripts are allowed by their hashes
        // (csp.rs), and a page's bytes must be the same for every response (the page cache).
        provide_context(leptos::nonce::Nonce::from_value(""));
    }

    /// A receiver that sees why this process must stop serving, if a background check says so.
    pub fn fatal_errors(&self) -> tokio::sync::watch::Receiver<Option<String>> {
        self.fatal.subscribe()
    }

    /// M6: the database remembers the Stripe account it was filled from; another account's key stops
    /// this instance. Stripe unreachable: checked again at the next start.
    async fn check_stripe_account(&self) {
        let account = match self.state.gateway.account_id().await {
            Ok(account) => account,
            Err(error) => {
                tracing::warn!(%error, "could not read the Stripe account; checked at the next start");
                return;
            }
        };
        if let Err(error) = self
            .installation
            .check_account(&self.state.db, &account)
            .await
        {
            tracing::error!(%error, "stopping");
            self.fatal.send_replace(Some(error.to_string()));
        }
    }

    fn webhook_state(&self) -> WebhookState {
        WebhookState {
            billing: self.billing.clone(),
            shop: self.shop.clone(),
            catalog: self.catalog.clone(),
            gateway: self.state.gateway.clone(),
            db: self.state.db.clone(),
            livemode: self.state.config.stripe.mode == crate::config::StripeMode::Live,
        }
    }
}

/// Connects to the database (running migrations) and loads the catalog snapshot: everything the
/// server and the command-line tasks share.
pub async fn build_services(config: Config) -> Result<Services, StartupError> {
    let db = Database::connect(secrecy::ExposeSecret::expose_secret(&config.database_url)).await?;
    let bundle = assets::Bundle::of_site(&config.site_root);
    let leptos_options = LeptosOptions::builder()
        .output_name("storefront")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.bind_addr)
        .hash_files(bundle.hash_file.is_some())
        // An absolute path: leptos joins it to the binary's directory, which then leaves it as is.
        .hash_file(
            bundle
                .hash_file
                .as_ref()
                .map_or_else(|| "hash.txt".into(), |path| path.to_string_lossy().into()),
        )
        .build();
    let inline_scripts = crate::csp::InlineScriptHashes::of_shell(&leptos_options);
    let installation = Arc::new(Installation::load_or_create(&db, config.stripe.mode).await?);
    let gateway = Arc::new(StripeGateway::new(&config.stripe)?);
    let password_hashing = config.password_hashing;
    let state = AppState {
        leptos_options,
        config: Arc::new(config),
        db: db.clone(),
        gateway: gateway.clone(),
    };
    let catalog = Arc::new(CatalogStore::default());
    catalog.reload(&db).await?;
    let auth_cache = Arc::new(AuthCache::default());
    let sessions = CachedSessionStore::new(
        SessionStoreBackend::for_database(&db).await?,
        auth_cache.clone(),
        db.clone(),
    );
    let pages = UserPages::new(auth_cache.clone());
    let customers = Customers::new(db.clone(), gateway.clone(), installation.clone());
    let budget = Arc::new(StripeBudget::default());
    let billing = Billing::new(
        &state,
        catalog.clone(),
        customers.clone(),
        budget.clone(),
        pages.clone(),
    );
    let shop = Shop::new(
        &state,
        catalog.clone(),
        installation.clone(),
        customers.clone(),
        budget.clone(),
        pages,
    );
    let account = AccountServices {
        customers,
        billing: billing.clone(),
        shop: shop.clone(),
    };
    let config = state.config.clone();
    Ok(Services {
        account,
        shop,
        state,
        billing,
        catalog,
        auth: Arc::new(AuthState {
            rate_limiter: AuthRateLimiter::default(),
            hashing: HashingGate::new(password_hashing),
            cache: auth_cache,
            sessions,
            config,
        }),
        installation,
        budget,
        bundle,
        inline_scripts,
        fatal: tokio::sync::watch::Sender::new(None),
    })
}

/// Builds the services and the router, and starts the background tasks of a serving instance.
/// Makes no Stripe call (L15): the caller can listen at once; Stripe work starts in the background
/// (`StartupTasks`), which tests and tools may wait for.
pub async fn build(config: Config) -> Result<(Router, Services, StartupTasks), StartupError> {
    let services = build_services(config).await?;
    let mail = MailWorker::new(services.state.db.clone(), &services.state.config.mail)?;
    let session_store = services.auth.sessions.clone();
    let startup = background::spawn_background_tasks(&services, session_store.backend(), mail);
    let router = routes(&services, session_store);
    Ok((router, services, startup))
}

/// The first Stripe work of a new instance (catalog, account check), running in the background.
pub struct StartupTasks(tokio::task::JoinHandle<()>);

impl StartupTasks {
    /// Waits until the first catalog sync and the account check have been tried.
    pub async fn finished(self) {
        if let Err(error) = self.0.await {
            tracing::warn!(%error, "start-up task ended abnormally");
        }
    }
}

/// Pages and server functions (with sessions and the current user), probes, webhooks, and the
/// middleware every request goes through (outermost last). Kept as one function, a little over the
/// usual length, so that the order of the layers reads top to bottom in one place.
fn routes(services: &Services, session_store: CachedSessionStore) -> Router {
    let state = &services.state;
    let context_services = services.clone();
    let provide_services = move || context_services.provide_context();
    let shell_options = state.leptos_options.clone();
    let auth_cache = services.auth.cache.clone();
    let signed_in_pages = Arc::new(page_cache::SignedInPages::signed_in(
        services.catalog.clone(),
        auth_cache.clone(),
    ));
    let security_headers = security::security_headers(state.config.cookies_secure());
    let front_door = page_cache::FrontDoor::new(
        page_cache::AnonymousPages::anonymous(services.catalog.clone(), auth_cache.clone()),
        signed_in_pages.clone(),
        auth_cache.clone(),
        session_cookie_name(&state.config),
        &security_headers,
    );
    // Listed innermost first: the signed-in page cache needs the user that `load_current_user` reads
    // from the session, and the cart count (a page with a cart is not cached); the anonymous one sits
    // in front of everything but the request log (below), so a hit costs no session work either.
    let pages_and_server_fns = Router::new()
        .leptos_routes_with_context(
            state,
            generate_route_list(App),
            provide_services.clone(),
            move || shell(shell_options.clone()),
        )
        .route(
            crate::account::DATA_EXPORT_PATH,
            get(crate::account::ssr::data::download),
        )
        .route_layer(middleware::from_fn_with_state(
            signed_in_pages,
            page_cache::serve_signed_in_pages,
        ))
        .route_layer(middleware::from_fn_with_state(
            services.shop.clone(),
            load_cart_count,
        ))
        .route_layer(middleware::from_fn_with_state(
            (state.db.clone(), auth_cache),
            load_current_user,
        ))
        .layer(session_layer(session_store, &state.config))
        .layer(middleware::from_fn(fresh_sessions_for_writes));
    let allowed_origins = Arc::new(security::AllowedOrigins::for_app(&state.config.app_url));
    let trusted_proxies = Arc::new(state.config.trusted_proxies.clone());
    let security_headers = Arc::new(security_headers);
    let routing = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .merge(pages_and_server_fns)
        .merge(services.bundle.routes())
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_services, shell))
        .layer(RequestBodyLimitLayer::new(REQUEST_BODY_LIMIT))
        // Webhooks bring their own, larger body limit and skip the cross-site check (signed, not cookied).
        .merge(crate::webhooks::router(services.webhook_state()))
        .with_state(state.clone());
    // The middleware every request goes through wraps the routing as one service: a layer on a router
    // is applied to each route, and a route's whole stack is cloned for every request it serves.
    Router::new()
        .fallback_service(routing)
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
                .map_request(telemetry::drop_foreign_request_id)
                .layer(SetRequestIdLayer::x_request_id(telemetry::FastRequestId))
                .layer(PropagateRequestIdLayer::x_request_id())
                // A kept page is answered here, past nothing but the request id (`FrontDoor`,
                // which logs it in one line): it is bytes compressed already, and a GET of a kept
                // page needs no request span, no client address, no cross-site check, no timeout
                // and, while its session and user are cached and unchanged, no session layer
                // (issue 20: together most of a kept page's cost).
                .layer(middleware::from_fn_with_state(
                    Arc::new(front_door),
                    page_cache::serve_kept_pages,
                ))
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
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    REQUEST_TIMEOUT,
                ))
                // What is compressed per response (pages the cache does not keep, server functions):
                // the fastest level. tower-http's default brotli level is 11, its slowest, meant for
                // static files (issue 20: 534 µs per /pricing). Cached pages and the bundle arrive
                // compressed already, and this layer leaves them as they are.
                .layer(
                    CompressionLayer::new().quality(CompressionLevel::Precise(PER_RESPONSE_LEVEL)),
                ),
        )
}

async fn readyz(State(db): State<Database>) -> impl IntoResponse {
    if db.is_ready().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}
