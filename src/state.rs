//! Shared server state, handed to axum handlers and (as context) to server functions.

use crate::auth::ssr::AuthRateLimiter;
use crate::billing::ssr::KeyedLocks;
use crate::billing::ssr::stripe::StripeGateway;
use crate::catalog::ssr::CatalogStore;
use crate::config::Config;
use crate::db::Database;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub db: Database,
    pub rate_limiter: Arc<AuthRateLimiter>,
    pub gateway: Arc<StripeGateway>,
    pub catalog: Arc<CatalogStore>,
    /// Serialises work on one Stripe customer (or on the catalog) within this process.
    pub customer_locks: Arc<KeyedLocks>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
