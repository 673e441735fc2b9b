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

    /// For the shop: one action of `user_id` that calls Stripe, counted against the same per-user
    /// budget as checkout and the portal (M2), or 429.
    pub fn check_stripe_budget(&self, user_id: crate::domain::UserId) -> AppResult<()> {
        self.limits.check(user_id)
    }

    /// For the shop: the user's Stripe customer, created once (see `ensure_customer`).
    pub async fn customer_for(
        &self,
        user: &crate::auth::User,
    ) -> AppResult<crate::domain::CustomerId> {
        self.ensure_customer(user).await
    }

    /// For the shop: the user's cached pages (the dashboard lists orders) are stale on this instance
    /// now; other instances learn it from the `orders` trigger.
    pub fn forget_cached_user(&self, user_id: crate::domain::UserId) {
        self.users.forget_user(user_id);
    }

    /// The id naming this installation in Stripe metadata.
    pub fn installation_id(&self) -> &str {
        &self.installation_id
    }

    /// Forgets rate-limit state of idle users (run periodically, so memory stays bounded).
    pub fn forget_idle_limits(&self) {
        self.limits.forget_idle_keys();
    }
}
