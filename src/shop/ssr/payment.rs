//! Starting to pay a cart: one procedure for both ways to pay, hosted Checkout (`hosted.rs`) and
//! our own page with Stripe.js (`on_page.rs`). Only two steps differ between them, and they are the
//! strategies: reusing the cart's open payment, and creating the Stripe object for a new order.
//!
//! No transaction is open while Stripe is called (M3): the order and its reservation commit first,
//! and if Stripe then fails, the order is abandoned and its stock given back.

use super::Shop;
use super::cart::Cart;
use super::cart::SessionCart;
use super::guest::Buyer;
use super::pay_details::PayDetails;
use super::switch::OpenOrders;
use crate::catalog::{Catalog, Good};
use crate::domain::{CustomerId, Money, OrderId, PaymentFlow};
use crate::error::{AppError, AppResult};
use crate::shop::{
    CART_ALREADY_PAID, CART_CHANGED, EMPTY_CART, MIXED_CURRENCIES, NOT_ON_SALE, PAYMENT_IN_PROGRESS,
};
use crate::stripe_gateway::GatewayError;
use std::time::Duration;

/// How long an unpaid order holds its stock (`orders.reserved_until`), whichever way it is paid:
/// Stripe's shortest Checkout `expires_at` (30 minutes) plus a minute, so the request is never
/// refused for arriving a moment late. An on-page intent is canceled by the sweep after as long.
pub const RESERVATION_SECS: i64 = 31 * 60;

/// A way to pay, with what it needs.
#[derive(Debug, Clone, Copy)]
pub(super) enum WayToPay<'a> {
    /// Stripe's hosted Checkout page.
    Hosted,
    /// Our page, with Stripe.js's card field, for the cart version the page showed, with the
    /// address, rate and code the buyer entered there.
    OnPage {
        publishable_key: &'a str,
        shown_version: &'a str,
        details: &'a PayDetails,
    },
}

impl WayToPay<'_> {
    /// Names what an order of `cart` paid this way is for (`orders.cart_key`): an open payment is
    /// reused only for the same key. On our page the details are part of it (they change the price).
    pub fn order_key(self, cart: &Cart) -> String {
        match self {
            WayToPay::Hosted => cart.key(),
            WayToPay::OnPage { details, .. } => format!("{}|{}", cart.key(), details.fingerprint()),
        }
    }

    pub fn flow(self) -> PaymentFlow {
        match self {
            WayToPay::Hosted => PaymentFlow::Checkout,
            WayToPay::OnPage { .. } => PaymentFlow::Intent,
        }
    }
}

/// What the browser needs to confirm the payment: never the amount to charge (the intent has it).
#[derive(Debug, Clone)]
pub struct CardPayment {
    pub order_id: OrderId,
    pub client_secret: String,
    pub publishable_key: String,
    pub total: Money,
}

/// Where the buyer goes to pay.
#[derive(Debug, Clone)]
pub(super) enum PaymentStart {
    /// To Stripe's Checkout page, at this URL.
    Redirect(String),
    /// To the card field on our page, with this intent.
    Card(CardPayment),
}

/// Why a new order's Stripe object could not be made: Stripe no longer knows the customer (told
/// apart, so the customer can be replaced), or anything else.
#[derive(Debug)]
pub(super) enum PayError {
    MissingCustomer(AppError),
    App(AppError),
}

impl From<AppError> for PayError {
    fn from(error: AppError) -> Self {
        PayError::App(error)
    }
}

impl From<sqlx::Error> for PayError {
    fn from(error: sqlx::Error) -> Self {
        PayError::App(error.into())
    }
}

impl From<GatewayError> for PayError {
    fn from(error: GatewayError) -> Self {
        if error.is_missing_customer() {
            PayError::MissingCustomer(error.into())
        } else {
            PayError::App(error.into())
        }
    }
}

impl From<PayError> for AppError {
    fn from(error: PayError) -> Self {
        match error {
            PayError::MissingCustomer(error) | PayError::App(error) => error,
        }
    }
}

/// One priced line of a new order: amounts from our catalog, never from the form.
pub(super) struct OrderLine<'a> {
    pub good: &'a Good,
    pub quantity: i64,
}

/// A new order, as the strategies create its Stripe object.
pub(super) struct NewOrder<'a> {
    pub id: OrderId,
    /// `None` for a guest: Checkout makes the customer from what the buyer enters.
    pub customer_id: Option<&'a CustomerId>,
    pub lines: &'a [OrderLine<'a>],
    pub currency: &'a str,
}

/// The cart's lines priced from our catalog, all in one currency; the order's currency.
pub(super) fn priced_lines<'a>(
    catalog: &'a Catalog,
    cart: &Cart,
) -> AppResult<(Vec<OrderLine<'a>>, String)> {
    let lines = cart
        .lines()
        .iter()
        .map(|line| {
            let good = catalog
                .good_by_price(&line.price_id)
                .ok_or_else(|| AppError::Invalid(NOT_ON_SALE.into()))?;
            Ok(OrderLine {
                good,
                quantity: i64::from(line.quantity),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let Some(first) = lines.first() else {
        return Err(AppError::Invalid(EMPTY_CART.into()));
    };
    let currency = first.good.money.currency.clone();
    if lines.iter().any(|l| l.good.money.currency != currency) {
        return Err(AppError::Invalid(MIXED_CURRENCIES.into()));
    }
    Ok((lines, currency))
}

/// Names `cart` as it would be charged now: its lines and their prices in the catalog (a change of
/// either is another version). Short: a page carries it back.
pub(super) fn cart_version(catalog: &Catalog, cart: &Cart) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for line in cart.lines() {
        let price = catalog.good_by_price(&line.price_id).map(|g| &g.money);
        hash.update(format!(
            "{}x{}@{:?};",
            line.price_id,
            line.quantity,
            price.map(|m| (m.amount, &m.currency))
        ));
    }
    hex::encode(&hash.finalize()[..12])
}

/// The version `/shop/pay` shows and sends back: the cart's, and the details entered there.
pub(super) fn pay_version(catalog: &Catalog, cart: &Cart, details: &PayDetails) -> String {
    format!("{}-{}", cart_version(catalog, cart), details.fingerprint())
}

/// The order's total at our catalog's prices, in minor units (what we ask Stripe to charge; what
/// Stripe did charge is recorded when it is paid).
pub(super) fn total_of(lines: &[OrderLine<'_>]) -> i64 {
    lines.iter().map(|l| l.good.money.amount * l.quantity).sum()
}

impl Shop {
    /// Starts paying the session's cart; a cart found bought on the way (its order paid meanwhile)
    /// is emptied, and the refusal says so.
    pub(super) async fn pay_session_cart(
        &self,
        buyer: Buyer<'_>,
        session: &SessionCart,
        way: WayToPay<'_>,
    ) -> AppResult<PaymentStart> {
        let cart = self.cart_to_pay(session).await?;
        if let WayToPay::OnPage {
            shown_version,
            details,
            ..
        } = way
            && pay_version(&self.catalog.current(), &cart, details) != shown_version
        {
            return Err(AppError::Conflict(CART_CHANGED.into()));
        }
        let started = self.start_payment(buyer, &cart, way).await;
        // Bought on the way (its order paid meanwhile): the refusal's text says which.
        if matches!(&started, Err(error) if error.to_string() == CART_ALREADY_PAID) {
            self.current_cart(session).await?;
        }
        started
    }
}

/// How often, and how far apart, a request looks again while another request of the same buyer is
/// starting an order (a double submit): about the time Stripe takes to create a session or intent.
const STARTING_LOOKS: u32 = 50;
const STARTING_LOOK_EVERY: Duration = Duration::from_millis(100);

impl Shop {
    /// Starts paying `cart` the `way` given: the open payment of the same cart if there is one (a
    /// double click, a reload, a retry after a declined card), else, once the buyer's other open
    /// orders are ended, a new order with its stock reservation and its Stripe object. A request that
    /// meets another one of the buyer's starting an order waits for it and answers its payment (both
    /// clicks of a double click land on the same Checkout).
    #[tracing::instrument(skip_all, fields(user_id = ?buyer.user_id(), flow = way.flow().as_str()))]
    pub(super) async fn start_payment(
        &self,
        buyer: Buyer<'_>,
        cart: &Cart,
        way: WayToPay<'_>,
    ) -> AppResult<PaymentStart> {
        let catalog = self.catalog.current();
        let (lines, currency) = priced_lines(&catalog, cart)?;
        // Refused before any order exists: shippable goods in a currency without rates.
        self.shipping_offer(&lines, &currency)?;
        match buyer {
            Buyer::Account(user) => self.budget.check(user.id)?,
            Buyer::Guest(address) => self.budget.check_address(address)?,
        }
        let mut customer_replaced = false;
        for _ in 0..STARTING_LOOKS {
            if let Some(open) = self.open_payment_of(buyer, cart, way).await? {
                return Ok(open);
            }
            if let OpenOrders::Ended = self.end_open_orders(buyer, cart).await? {
                let customer_id = match buyer {
                    Buyer::Account(user) => Some(self.customers.ensure(user).await?),
                    Buyer::Guest(_) => None,
                };
                let created = self
                    .create_order(
                        buyer,
                        cart,
                        &way.order_key(cart),
                        way.flow(),
                        &currency,
                        &lines,
                    )
                    .await?;
                if let Some(order_id) = created {
                    match self
                        .pay_new_order(order_id, customer_id.as_ref(), &lines, &currency, way)
                        .await
                    {
                        // Deleted in Stripe's dashboard since we stored it (security review 2, L7):
                        // forget it and buy as a new customer, once.
                        Err(PayError::MissingCustomer(error)) if !customer_replaced => {
                            customer_replaced = true;
                            let (Buyer::Account(user), Some(customer_id)) = (buyer, &customer_id)
                            else {
                                return Err(error);
                            };
                            if !self.customers.forget_deleted(user.id, customer_id).await? {
                                return Err(error);
                            }
                            continue;
                        }
                        other => return other.map_err(AppError::from),
                    }
                }
            }
            tokio::time::sleep(STARTING_LOOK_EVERY).await;
        }
        Err(AppError::Conflict(PAYMENT_IN_PROGRESS.into()))
    }

    /// The new order's Stripe object; an order that cannot get one is abandoned (stock released).
    async fn pay_new_order(
        &self,
        order_id: OrderId,
        customer_id: Option<&CustomerId>,
        lines: &[OrderLine<'_>],
        currency: &str,
        way: WayToPay<'_>,
    ) -> Result<PaymentStart, PayError> {
        let order = NewOrder {
            id: order_id,
            customer_id,
            lines,
            currency,
        };
        match self.create_payment(&order, way).await {
            Ok(started) => Ok(started),
            Err(error) => {
                self.abandon(order_id).await?;
                Err(error)
            }
        }
    }

    /// Strategy one: the cart's open payment of this way, if it can still be paid: an order made from
    /// this cart (its id) with the same contents (its key).
    async fn open_payment_of(
        &self,
        buyer: Buyer<'_>,
        cart: &Cart,
        way: WayToPay<'_>,
    ) -> AppResult<Option<PaymentStart>> {
        Ok(match (way, buyer) {
            (WayToPay::Hosted, _) => self
                .open_checkout_of(buyer, cart)
                .await?
                .map(PaymentStart::Redirect),
            (
                WayToPay::OnPage {
                    publishable_key, ..
                },
                Buyer::Account(user),
            ) => self
                .open_intent_of(user, cart, &way.order_key(cart), publishable_key)
                .await?
                .map(PaymentStart::Card),
            // Our own page takes no e-mail: a guest pays on Stripe's page.
            (WayToPay::OnPage { .. }, Buyer::Guest(_)) => {
                return Err(AppError::Unauthenticated);
            }
        })
    }

    /// Strategy two: the Stripe object a new order is paid through, stored on the order.
    async fn create_payment(
        &self,
        order: &NewOrder<'_>,
        way: WayToPay<'_>,
    ) -> Result<PaymentStart, PayError> {
        Ok(match way {
            WayToPay::Hosted => PaymentStart::Redirect(self.open_checkout(order).await?),
            WayToPay::OnPage {
                publishable_key,
                details,
                ..
            } => PaymentStart::Card(self.create_intent(order, publishable_key, details).await?),
        })
    }
}
