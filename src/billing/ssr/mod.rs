//! Server side of billing: Checkout, the Billing Portal, the success page's work, and
//! `sync_customer`, the only writer of a customer's billing state (subscriptions, invoices, role).

mod checkout;
mod customers;
pub mod events;
mod locks;
mod sync;

pub use checkout::CheckoutResult;
pub use sync::SyncOutcome;

use crate::catalog::ssr::CatalogStore;
use crate::config::Config;
use crate::db::Database;
use crate::stripe_gateway::StripeGateway;
use locks::KeyedLocks;
use std::sync::Arc;

/// Billing's state and dependencies; cheap to clone (everything is shared).
#[derive(Clone)]
pub struct Billing {
    db: Database,
    gateway: Arc<StripeGateway>,
    catalog: Arc<CatalogStore>,
    config: Arc<Config>,
    /// Serialises work on one Stripe customer within this process.
    customer_locks: Arc<KeyedLocks>,
}

impl Billing {
    pub fn new(
        db: Database,
        gateway: Arc<StripeGateway>,
        catalog: Arc<CatalogStore>,
        config: Arc<Config>,
    ) -> Self {
        Self {
            db,
            gateway,
            catalog,
            config,
            customer_locks: Arc::default(),
        }
    }
}
