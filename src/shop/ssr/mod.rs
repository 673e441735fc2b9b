//! Server side of the shop: the cart in the session, checkout (order + stock reservation + Checkout
//! Session), fulfilment from Stripe's state (`sync_order`), and reading orders for their owner.

pub mod cart;
mod checkout;
mod fulfil;
mod orders;
mod pay;
mod receipt;
mod stock;
mod switch;

pub use cart::{Cart, CartChange, CartCount, SessionCart, load_cart_count};
pub use fulfil::OrderSync;

use crate::billing::ssr::Billing;
use crate::catalog::ssr::CatalogStore;
use crate::config::Config;
use crate::db::{Database, now_unix};
use crate::domain::{OrderId, UserId};
use crate::error::AppResult;
use crate::shop::{CartLineView, CartView, OrderView};
use crate::stripe_gateway::StripeGateway;
use std::sync::Arc;

/// A pending order whose Checkout Session should have expired this long ago, and whose expiry
/// event has not arrived, is read from Stripe by the sweep (a lost webhook must not hold stock).
const STALE_AFTER_EXPIRY_SECS: i64 = 10 * 60;
/// A pending order that never got a Checkout Session (the process stopped in between) is failed
/// after this long, its stock released.
const ORPHAN_AFTER_SECS: i64 = 10 * 60;
const SWEEP_BATCH: i64 = 50;

/// The shop's state and dependencies; cheap to clone.
#[derive(Clone)]
pub struct Shop {
    db: Database,
    gateway: Arc<StripeGateway>,
    catalog: Arc<CatalogStore>,
    config: Arc<Config>,
    billing: Billing,
}

/// `metadata[storefront_order]`: the installation and the order, so that only our own orders match.
pub fn order_tag(installation_id: &str, order_id: OrderId) -> String {
    format!("{installation_id}:{order_id}")
}

impl Shop {
    pub fn new(
        db: Database,
        gateway: Arc<StripeGateway>,
        catalog: Arc<CatalogStore>,
        config: Arc<Config>,
        billing: Billing,
    ) -> Self {
        Self {
            db,
            gateway,
            catalog,
            config,
            billing,
        }
    }

    pub fn catalog(&self) -> Arc<crate::catalog::Catalog> {
        self.catalog.current()
    }

    /// Applies a cart form's change to the request's cart and saves it; answers the item count.
    pub async fn change_cart(&self, change: CartChange) -> AppResult<u32> {
        let session = SessionCart::of_request().await?;
        let mut cart = session.load().await?;
        let catalog = self.catalog.current();
        match change {
            CartChange::Add { price_id, quantity } => {
                cart.add(&self.db, &catalog, &price_id, &quantity).await?;
            }
            CartChange::Update { price_id, quantity } => {
                cart.update(&self.db, &catalog, &price_id, &quantity)
                    .await?;
            }
            CartChange::Clear => cart = Cart::default(),
        }
        session.save(&cart).await?;
        Ok(cart.count())
    }

    /// Units available of every good.
    pub async fn stock_levels(
        &self,
    ) -> AppResult<std::collections::HashMap<crate::domain::ProductId, i64>> {
        stock::available_all(&self.db).await
    }

    /// The order a `storefront_order` tag names, if it is one of this installation's.
    pub fn order_of_tag(&self, tag: &str) -> Option<OrderId> {
        let (installation, id) = tag.rsplit_once(':')?;
        (installation == self.billing.installation_id())
            .then(|| OrderId::parse(id))
            .flatten()
    }

    /// The order paid with a PaymentIntent: the one that recorded it, else the one its metadata
    /// names (read from Stripe: a refund's event may be the first we hear of the intent).
    pub async fn order_of_payment(&self, payment_intent_id: &str) -> AppResult<Option<OrderId>> {
        let stored =
            sqlx::query_scalar::<_, OrderId>("SELECT id FROM orders WHERE payment_intent_id = $1")
                .bind(payment_intent_id)
                .fetch_optional(&self.db.pool)
                .await?;
        if stored.is_some() {
            return Ok(stored);
        }
        let payment = self.gateway.payment(payment_intent_id).await?;
        Ok(payment
            .order_tag
            .as_deref()
            .and_then(|t| self.order_of_tag(t)))
    }

    /// The order page's work: the owner's order; with the `session_id` Stripe Checkout sends the
    /// buyer back with, or the `payment_intent` our pay page does, a pending order is synced first,
    /// so it shows "paid" even before the webhook. What the URL says is only a reason to ask
    /// Stripe; the state always comes from Stripe's objects.
    pub async fn order_page(
        &self,
        user_id: UserId,
        order_id: OrderId,
        returned: Option<&str>,
    ) -> AppResult<OrderView> {
        let (order, refs) = self.order_of(user_id, order_id).await?;
        let returning = returned.is_some_and(|r| refs.matches(r));
        if !returning || order.status != crate::domain::OrderStatus::Pending {
            return Ok(order);
        }
        self.billing.check_stripe_budget(user_id)?;
        self.sync_order(order_id, None).await?;
        Ok(self.order_of(user_id, order_id).await?.0)
    }

    /// What the cart page shows: each line with the catalog's name and price and what is left.
    pub async fn cart_view(&self, cart: &Cart) -> AppResult<CartView> {
        let catalog = self.catalog.current();
        let stock = stock::available_all(&self.db).await?;
        let lines: Vec<CartLineView> = cart
            .lines()
            .iter()
            .map(|line| {
                let good = catalog.good_by_price(&line.price_id);
                CartLineView {
                    price_id: line.price_id.to_string(),
                    name: good.map_or_else(
                        || "An item no longer on sale".to_owned(),
                        |g| g.name.clone(),
                    ),
                    slug: good.map(|g| g.slug.clone()),
                    quantity: line.quantity,
                    unit: good.map(|g| g.money.clone()),
                    line_total: good.map(|g| {
                        crate::domain::Money::new(
                            g.money.amount * i64::from(line.quantity),
                            g.money.currency.clone(),
                        )
                    }),
                    available: good.map_or(0, |g| stock.get(&g.product_id).copied().unwrap_or(0)),
                }
            })
            .collect();
        let total = lines
            .iter()
            .filter_map(|l| l.line_total.clone())
            .reduce(|a, b| crate::domain::Money::new(a.amount + b.amount, a.currency));
        Ok(CartView { lines, total })
    }

    /// Background: pending orders that should have ended by now are read from Stripe (a lost expiry
    /// event), unpaid intents past their reservation are canceled, and orders that never got a
    /// session or intent are failed. Bounded per pass.
    pub async fn sweep_stale_orders(&self) -> AppResult<usize> {
        let now = now_unix();
        let stale = sqlx::query_scalar::<_, OrderId>(
            "SELECT id FROM orders WHERE status = 'pending' AND checkout_session_id IS NOT NULL \
             AND checkout_expires_at < $1 ORDER BY id LIMIT $2",
        )
        .bind(now - STALE_AFTER_EXPIRY_SECS)
        .bind(SWEEP_BATCH)
        .fetch_all(&self.db.pool)
        .await?;
        for order_id in &stale {
            self.sync_order(*order_id, None).await?;
        }
        let orphans = sqlx::query_scalar::<_, OrderId>(
            "SELECT id FROM orders WHERE status = 'pending' AND checkout_session_id IS NULL \
             AND payment_intent_id IS NULL AND created_at < $1 ORDER BY id LIMIT $2",
        )
        .bind(now - ORPHAN_AFTER_SECS)
        .bind(SWEEP_BATCH)
        .fetch_all(&self.db.pool)
        .await?;
        for order_id in &orphans {
            self.abandon(*order_id).await?;
        }
        let abandoned = self.abandon_stale_intents(SWEEP_BATCH).await?;
        Ok(stale.len() + orphans.len() + abandoned)
    }
}
