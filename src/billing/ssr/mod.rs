//! Server side of billing: Checkout, the Billing Portal, the success page's work, and
//! `sync_customer`, the only writer of a customer's billing state (subscriptions, invoices, role).

mod checkout;
mod customers;
mod erasure;
mod notices;
mod read;
mod sync;
mod writes;

pub use checkout::CheckoutResult;
pub use sync::CustomerSynced;

use crate::auth::ssr::UserPages;
use crate::catalog::ssr::CatalogStore;
use crate::config::Config;
use crate::customers::Customers;
use crate::db::Database;
use crate::state::AppState;
use crate::stripe_gateway::{StripeBudget, StripeGateway};
use crate::stripe_sync::SyncEnvelope;
use std::sync::Arc;

/// Billing's state and dependencies; cheap to clone (everything is shared).
#[derive(Clone)]
pub struct Billing {
    db: Database,
    gateway: Arc<StripeGateway>,
    catalog: Arc<CatalogStore>,
    config: Arc<Config>,
    customers: Customers,
    /// The per-user Stripe budget, shared with the shop.
    budget: Arc<StripeBudget>,
    /// Customer syncs: coalesced per Stripe customer, bounded by the sync deadline, and the user's
    /// pages forgotten after each write.
    syncs: SyncEnvelope<sync::SyncRequest, CustomerSynced>,
}

impl Billing {
    pub fn new(
        state: &AppState,
        catalog: Arc<CatalogStore>,
        customers: Customers,
        budget: Arc<StripeBudget>,
        pages: UserPages,
    ) -> Self {
        let deadline = state.config.stripe.sync_deadline;
        Self {
            db: state.db.clone(),
            gateway: state.gateway.clone(),
            config: state.config.clone(),
            catalog,
            customers,
            budget,
            syncs: SyncEnvelope::new(state.db.clone(), deadline, pages),
        }
    }
}
