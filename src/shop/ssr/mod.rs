//! Server side of the shop: the cart in the session, starting to pay (order + stock reservation +
//! hosted Checkout or an intent paid on our page), `sync_order` (the order's state from Stripe's),
//! the sweep, and reading orders for their owner.

mod attention;
mod bought;
pub mod cart;
mod guest;
mod hosted;
mod money;
mod on_page;
mod order;
mod orders;
mod pay_details;
mod payment;
mod quote;
mod receipt;
mod shipping;
mod stock;
mod sweep;
mod switch;
mod sync;

pub use bought::load_cart_count;
pub use cart::{Cart, CartChange, CartCount, SessionCart};
pub use guest::{Buyer, Viewer};

pub use orders::ORDER_COLUMNS;
pub use pay_details::PayDetails;

use crate::auth::ssr::UserPages;
use crate::catalog::ssr::CatalogStore;
use crate::config::Config;
use crate::customers::Customers;
use crate::db::Database;
use crate::domain::OrderId;
use crate::error::AppResult;
use crate::installation::Installation;
use crate::shop::{CartLineView, CartView, OrderView};
use crate::state::AppState;
use crate::stripe_gateway::{
    PaymentObject, PaymentSubject, StripeBudget, StripeGateway, VerifiedEvent,
};
use crate::stripe_sync::SyncEnvelope;
use std::sync::Arc;

/// The shop's state and dependencies; cheap to clone.
#[derive(Clone)]
pub struct Shop {
    db: Database,
    gateway: Arc<StripeGateway>,
    config: Arc<Config>,
    catalog: Arc<CatalogStore>,
    installation: Arc<Installation>,
    customers: Customers,
    /// The per-user Stripe budget, shared with billing.
    budget: Arc<StripeBudget>,
    /// Order syncs: coalesced per order, bounded by the sync deadline, the buyer's pages forgotten
    /// after each write. A request brings its webhook event, if any.
    syncs: SyncEnvelope<Option<VerifiedEvent>, ()>,
    /// This instance's cached pages that show stock are forgotten at once when a buyer's own request
    /// reserves or gives back stock; every other change reaches them through the stock trigger's
    /// invalidation rows, within the poll (server/page_cache).
    pages: UserPages,
}

/// `metadata[storefront_order]`: the installation and the order, so that only our own orders match.
pub fn order_tag(installation_id: &str, order_id: OrderId) -> String {
    format!("{installation_id}:{order_id}")
}

impl Shop {
    pub fn new(
        state: &AppState,
        catalog: Arc<CatalogStore>,
        installation: Arc<Installation>,
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
            installation,
            customers,
            budget,
            syncs: SyncEnvelope::new(state.db.clone(), deadline, pages.clone()),
            pages,
        }
    }

    pub fn catalog(&self) -> Arc<crate::catalog::Catalog> {
        self.catalog.current()
    }

    /// Applies a cart form's change to the request's cart and saves it; answers the item count.
    pub async fn change_cart(&self, change: CartChange) -> AppResult<u32> {
        let session = SessionCart::of_request().await?;
        let mut cart = self.current_cart(&session).await?;
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
    ) -> AppResult<std::collections::HashMap<crate::domain::PriceId, i64>> {
        stock::available_all(&self.db).await
    }

    /// The order a `storefront_order` tag names, if it is one of this installation's.
    pub fn order_of_tag(&self, tag: &str) -> Option<OrderId> {
        let (installation, id) = tag.rsplit_once(':')?;
        (installation == self.installation.id())
            .then(|| OrderId::parse(id))
            .flatten()
    }

    /// Whether `customer` is the Stripe customer of one of our users who has ordered goods.
    async fn is_buyers_customer(&self, customer: &crate::domain::CustomerId) -> AppResult<bool> {
        // One row is enough: this runs for every charge event of the account.
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT 1 FROM orders o JOIN users u ON u.id = o.user_id \
             WHERE u.stripe_customer_id = $1 LIMIT 1",
        )
        .bind(customer)
        .fetch_optional(&self.db.pool)
        .await?
        .is_some())
    }

    /// The order paid with a PaymentIntent: the one that recorded it, else the one its metadata
    /// names. Stripe is read only where that can find one of ours (security review 2, L8): never for
    /// an intent event (its metadata was in the event, without our tag), for a charge only when its
    /// customer is one of our buyers, for a refund always (it names no customer, and may be the
    /// first we hear of an order's intent).
    pub async fn order_of_payment(&self, payment: &PaymentSubject) -> AppResult<Option<OrderId>> {
        let payment_intent_id = payment.payment_intent_id.as_str();
        let stored =
            sqlx::query_scalar::<_, OrderId>("SELECT id FROM orders WHERE payment_intent_id = $1")
                .bind(payment_intent_id)
                .fetch_optional(&self.db.pool)
                .await?;
        if stored.is_some() {
            return Ok(stored);
        }
        let worth_a_read = match (payment.kind, &payment.customer) {
            (PaymentObject::Intent, _) => false,
            (PaymentObject::Charge, None) => false,
            (PaymentObject::Charge, Some(customer)) => self.is_buyers_customer(customer).await?,
            (PaymentObject::Refund, _) => true,
        };
        if !worth_a_read {
            return Ok(None);
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
        viewer: Viewer<'_>,
        order_id: OrderId,
        returned: Option<&str>,
    ) -> AppResult<OrderView> {
        let (order, refs) = self.order_for(viewer, order_id).await?;
        let returning = returned.is_some_and(|r| refs.matches(r));
        if !returning || order.status != crate::domain::OrderStatus::Pending {
            return Ok(order);
        }
        match viewer {
            Viewer::Account(user_id) => self.budget.check(user_id)?,
            Viewer::Link(_) => match crate::request::client_ip() {
                Some(address) => self.budget.check_address(address)?,
                None => return Ok(order),
            },
        }
        self.sync_order(order_id, None).await?;
        Ok(self.order_for(viewer, order_id).await?.0)
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
                    name: good
                        .map_or_else(|| "An item no longer on sale".to_owned(), |g| g.line_name()),
                    slug: good.map(|g| g.slug.clone()),
                    quantity: line.quantity,
                    unit: good.map(|g| g.money.clone()),
                    line_total: good.map(|g| {
                        crate::domain::Money::new(
                            g.money.amount * i64::from(line.quantity),
                            g.money.currency.clone(),
                        )
                    }),
                    available: good.map_or(0, |g| stock.get(&g.price_id).copied().unwrap_or(0)),
                }
            })
            .collect();
        let total = lines
            .iter()
            .filter_map(|l| l.line_total.clone())
            .reduce(|a, b| crate::domain::Money::new(a.amount + b.amount, a.currency));
        Ok(CartView {
            lines,
            total,
            bought: None,
            version: payment::cart_version(&catalog, cart),
        })
    }
}

#[cfg(test)]
mod form_contract_tests {
    use crate::components::form_contract::{hidden_messages, raised_in};
    use std::path::Path;

    /// Every message the shop's server code raises for a form is one its forms can show (a new
    /// message missing from `SHOP_FORM_MESSAGES` would read "Something went wrong" without
    /// JavaScript).
    #[test]
    fn every_message_the_shop_raises_is_one_its_forms_show() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/shop");
        let raised = raised_in(&root, &[&root.join("mod.rs")]);
        assert!(raised.len() >= 10, "the scanner found {raised:?}");
        let hidden = hidden_messages(&raised, crate::shop::SHOP_FORM_MESSAGES);
        assert!(
            hidden.is_empty(),
            "shown as 'Something went wrong': {hidden:#?}"
        );
    }
}
