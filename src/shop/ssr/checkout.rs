//! Checking out a cart: the order and its stock reservation in one transaction, then a Checkout
//! Session in `payment` mode for exactly that order. No transaction is open while Stripe is called
//! (M3): if the call fails, a second transaction gives the stock back.

use super::cart::{Cart, NOT_ON_SALE, only_left};
use super::stock::{self, StockMove, available};
use super::{Shop, order_tag};
use crate::auth::User;
use crate::catalog::{Catalog, Good};
use crate::db::now_unix;
use crate::domain::{CustomerId, OrderId, OrderStatus, PaymentFlow, PriceId};
use crate::error::{AppError, AppResult};
use crate::stripe_gateway::NewOrderCheckout;

/// How long a buyer has to pay: Stripe's shortest `expires_at` (30 minutes) plus a minute, so the
/// request is never refused for arriving a moment late. The stock is held that long.
pub const CHECKOUT_EXPIRES_SECS: i64 = 31 * 60;
/// An open checkout of the same cart is reused while it has at least this long left.
const REUSE_MARGIN_SECS: i64 = 5 * 60;

pub const MIXED_CURRENCIES: &str = "Please buy items priced in one currency at a time.";
pub const EMPTY_CART: &str = "Your cart is empty.";

/// One priced line of a new order: amounts from our catalog, never from the form.
pub(super) struct OrderLine<'a> {
    good: &'a Good,
    quantity: i64,
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

/// The order's total in minor units.
pub(super) fn total_of(lines: &[OrderLine<'_>]) -> i64 {
    lines.iter().map(|l| l.good.money.amount * l.quantity).sum()
}

impl Shop {
    /// Where `checkout_cart` sends the browser: Stripe Checkout for a new order of the cart, or the
    /// open Checkout Session of the same cart (a double click, a reload of the form).
    #[tracing::instrument(skip_all, fields(user_id = %user.id))]
    pub async fn checkout(&self, user: &User, cart: &Cart) -> AppResult<String> {
        let catalog = self.catalog.current();
        let (lines, currency) = priced_lines(&catalog, cart)?;
        self.billing.check_stripe_budget(user.id)?;
        if let Some(url) = self.open_checkout_of(user, &cart.key()).await? {
            return Ok(url);
        }
        self.end_other_way_to_pay(user, &cart.key(), PaymentFlow::Checkout)
            .await?;
        let customer_id = self.billing.customer_for(user).await?;
        let order_id = self
            .create_order(user, &cart.key(), PaymentFlow::Checkout, &currency, &lines)
            .await?;
        match self.open_checkout(order_id, &customer_id, &lines).await {
            Ok(url) => Ok(url),
            Err(error) => {
                self.abandon(order_id).await?;
                Err(error)
            }
        }
    }

    /// The URL of this user's pending order of the same cart, if its session is still open.
    async fn open_checkout_of(&self, user: &User, cart_key: &str) -> AppResult<Option<String>> {
        Ok(sqlx::query_scalar::<_, String>(
            "SELECT checkout_url FROM orders WHERE user_id = $1 AND cart_key = $2 AND status = 'pending' \
             AND checkout_url IS NOT NULL AND checkout_expires_at > $3 ORDER BY id DESC LIMIT 1",
        )
        .bind(user.id)
        .bind(cart_key)
        .bind(now_unix() + REUSE_MARGIN_SECS)
        .fetch_optional(&self.db.pool)
        .await?)
    }

    /// The order, its items and its stock reservation, in one transaction: all or nothing.
    pub(super) async fn create_order(
        &self,
        user: &User,
        cart_key: &str,
        flow: PaymentFlow,
        currency: &str,
        lines: &[OrderLine<'_>],
    ) -> AppResult<OrderId> {
        let total = total_of(lines);
        let now = now_unix();
        let mut tx = self.db.pool.begin().await?;
        let order_id = sqlx::query_scalar::<_, OrderId>(
            "INSERT INTO orders (user_id, status, currency, total, cart_key, payment_flow, created_at, \
             updated_at) VALUES ($1, 'pending', $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(user.id)
        .bind(currency)
        .bind(total)
        .bind(cart_key)
        .bind(flow.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for line in lines {
            sqlx::query(
                "INSERT INTO order_items (order_id, price_id, product_id, name, unit_amount, quantity) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(order_id)
            .bind(&line.good.price_id)
            .bind(&line.good.product_id)
            .bind(&line.good.name)
            .bind(line.good.money.amount)
            .bind(line.quantity)
            .execute(&mut *tx)
            .await?;
            if !stock::reserve(&mut tx, &line.good.product_id, line.quantity).await? {
                tx.rollback().await?;
                let left = available(&self.db, &line.good.product_id).await?;
                tracing::info!(product = %line.good.product_id, left, "checkout refused: not enough stock");
                return Err(only_left(left));
            }
        }
        tx.commit().await?;
        tracing::info!(%order_id, total, "order created, stock reserved");
        Ok(order_id)
    }

    /// Creates the order's Checkout Session and stores it on the order; returns its URL.
    async fn open_checkout(
        &self,
        order_id: OrderId,
        customer_id: &CustomerId,
        lines: &[OrderLine<'_>],
    ) -> AppResult<String> {
        let stripe_lines: Vec<(PriceId, i64)> = lines
            .iter()
            .map(|l| (l.good.price_id.clone(), l.quantity))
            .collect();
        let tag = order_tag(self.billing.installation_id(), order_id);
        let idempotency_key = format!("storefront-{tag}-checkout").replace(':', "-");
        let session = self
            .gateway
            .create_order_checkout(NewOrderCheckout {
                customer_id,
                lines: &stripe_lines,
                order_id: order_id.get(),
                order_tag: &tag,
                success_url: &self.config.url(&format!(
                    "/shop/orders/{order_id}?session_id={{CHECKOUT_SESSION_ID}}"
                )),
                cancel_url: &self.config.url("/cart"),
                expires_at: now_unix() + CHECKOUT_EXPIRES_SECS,
                idempotency_key: &idempotency_key,
            })
            .await?;
        let url = session
            .url
            .ok_or_else(|| AppError::Internal("checkout session without url".into()))?;
        sqlx::query(
            "UPDATE orders SET checkout_session_id = $2, checkout_url = $3, checkout_expires_at = $4, \
             updated_at = $5 WHERE id = $1",
        )
        .bind(order_id)
        .bind(&session.id)
        .bind(&url)
        .bind(session.expires_at)
        .bind(now_unix())
        .execute(&self.db.pool)
        .await?;
        tracing::info!(%order_id, session = %session.id, "order checkout session created");
        Ok(url)
    }

    /// An order whose Checkout Session or PaymentIntent could not be created: failed, its stock
    /// given back.
    pub(super) async fn abandon(&self, order_id: OrderId) -> AppResult<()> {
        let mut tx = self.db.pool.begin().await?;
        if super::fulfil::move_status(&mut tx, order_id, OrderStatus::Pending, OrderStatus::Failed)
            .await?
        {
            super::fulfil::move_items(&mut tx, order_id, StockMove::Release).await?;
        }
        tx.commit().await?;
        tracing::warn!(%order_id, "order abandoned: no way to pay it; stock released");
        Ok(())
    }
}
