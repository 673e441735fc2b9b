//! Shared server state: infrastructure only (configuration, database, the Stripe gateway). Features
//! keep their own state (rate limiter, catalog snapshot, locks) and receive what they need as
//! arguments, through axum's `FromRef`, or from the request's context (`from_context`).

use crate::config::Config;
use crate::db::Database;
use crate::error::{AppError, AppResult};
use crate::stripe_gateway::StripeGateway;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub db: Database,
    pub gateway: Arc<StripeGateway>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Database {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

/// A value the server provides to every page and server function (see `server::provide_services`).
/// Missing means the server was assembled wrongly, not a user error.
pub fn from_context<T: Clone + 'static>() -> AppResult<T> {
    leptos::prelude::use_context::<T>().ok_or_else(|| {
        AppError::Internal(format!(
            "{} missing from the request context",
            std::any::type_name::<T>()
        ))
    })
}
