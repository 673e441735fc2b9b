//! Server side of billing: Checkout, the Billing Portal, the success page's work, and
//! `sync_customer`, the only writer of a customer's billing state (subscriptions, invoices, role).

mod checkout;
mod coalesce;
mod customers;
pub mod events;
mod limits;
mod notices;
mod read;
mod sync;
mod writes;

pub use checkout::CheckoutResult;
pub use sync::SyncOutcome;

use crate::auth::ssr::AuthCache;
use crate::catalog::ssr::CatalogStore;
use crate::config::Config;
use crate::db::Database;
use crate::error::AppResult;
use crate::stripe_gateway::StripeGateway;
use coalesce::Coalescer;
use limits::BillingLimits;
use std::sync::Arc;

/// Billing's state and dependencies; cheap to clone (everything is shared).
#[derive(Clone)]
pub struct Billing {
    db: Database,
    gateway: Arc<StripeGateway>,
    catalog: Arc<CatalogStore>,
    config: Arc<Config>,
    /// Coalesces syncs per Stripe customer within this process (a webhook storm costs a few reads).
    sync_queue: Arc<Coalescer<sync::SyncRequest, AppResult<sync::RoundReport>>>,
    limits: Arc<BillingLimits>,
    /// Names this installation in our Stripe metadata (`installation::Installation`).
    installation_id: Arc<str>,
    /// Signed-in users are cached; a sync that wrote a user's access forgets it here at once (other
    /// instances learn it from the `users` trigger).
    users: Arc<AuthCache>,
}

impl Billing {
    pub fn new(
        db: Database,
        gateway: Arc<StripeGateway>,
        catalog: Arc<CatalogStore>,
        config: Arc<Config>,
        installation_id: &str,
        users: Arc<AuthCache>,
    ) -> Self {
        Self {
            db,
            gateway,
            catalog,
            config,
            sync_queue: Arc::default(),
            limits: Arc::default(),
            installation_id: installation_id.into(),
            users,
        }
    }

    /// Forgets rate-limit state of idle users (run periodically, so memory stays bounded).
    pub fn forget_idle_limits(&self) {
        self.limits.forget_idle_keys();
    }
}
