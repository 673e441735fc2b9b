//! Paying on Stripe's hosted Checkout page: a Checkout Session in `payment` mode for exactly the
//! order, expiring when the order's reservation ends.

use super::cart::{Cart, SessionCart};
use super::guest::Buyer;
use super::payment::{NewOrder, PayError, PaymentStart, RESERVATION_SECS, WayToPay};
use super::{Shop, order_tag};
use crate::db::now_unix;
use crate::domain::PriceId;
use crate::error::{AppError, AppResult};
use crate::stripe_gateway::NewOrderCheckout;

/// An open checkout of the same cart is reused while it has at least this long left.
const REUSE_MARGIN_SECS: i64 = 5 * 60;

impl Shop {
    /// Where `checkout_cart` sends the browser: Stripe Checkout for a new order of the session's
    /// cart, or the open Checkout Session of the same cart (a double click, a reload of the form).
    pub async fn checkout(&self, buyer: Buyer<'_>, session: &SessionCart) -> AppResult<String> {
        match self
            .pay_session_cart(buyer, session, WayToPay::Hosted)
            .await?
        {
            PaymentStart::Redirect(url) => Ok(url),
            PaymentStart::Card(_) => Err(AppError::Internal(
                "hosted checkout answered with an intent".into(),
            )),
        }
    }

    /// The URL of this buyer's pending order of the same cart, if its session is still open.
    pub(super) async fn open_checkout_of(
        &self,
        buyer: Buyer<'_>,
        cart: &Cart,
    ) -> AppResult<Option<String>> {
        Ok(sqlx::query_scalar::<_, String>(
            "SELECT checkout_url FROM orders \
             WHERE (user_id = $1 OR ($1 IS NULL AND user_id IS NULL)) AND cart_id = $2 \
             AND cart_key = $3 AND status = 'pending' AND checkout_url IS NOT NULL \
             AND reserved_until > $4 ORDER BY id DESC LIMIT 1",
        )
        .bind(buyer.user_id())
        .bind(cart.id())
        .bind(cart.key())
        .bind(now_unix() + REUSE_MARGIN_SECS)
        .fetch_optional(&self.db.pool)
        .await?)
    }

    /// Creates the order's Checkout Session and stores it on the order; returns its URL.
    pub(super) async fn open_checkout(&self, order: &NewOrder<'_>) -> Result<String, PayError> {
        let order_id = order.id;
        let stripe_lines: Vec<(PriceId, i64)> = order
            .lines
            .iter()
            .map(|l| (l.good.price_id.clone(), l.quantity))
            .collect();
        let tag = order_tag(self.installation.id(), order_id);
        let idempotency_key = format!("storefront-{tag}-checkout").replace(':', "-");
        // A guest comes back through the order's signed link; an account holder signs in.
        let order_path = match order.customer_id {
            Some(_) => format!("/shop/orders/{order_id}?"),
            None => format!("{}&", self.guest_order_path(order_id)),
        };
        let session = self
            .gateway
            .create_order_checkout(NewOrderCheckout {
                customer_id: order.customer_id,
                lines: &stripe_lines,
                order_id: order_id.get(),
                order_tag: &tag,
                success_url: &self
                    .config
                    .url(&format!("{order_path}session_id={{CHECKOUT_SESSION_ID}}")),
                cancel_url: &self.config.url("/cart"),
                expires_at: now_unix() + RESERVATION_SECS,
                idempotency_key: &idempotency_key,
                shipping: self.shipping_offer(order.lines, order.currency)?,
                automatic_tax: self.config.selling.automatic_tax,
            })
            .await?;
        let url = session
            .url
            .ok_or_else(|| AppError::Internal("checkout session without url".into()))?;
        // The reservation ends when the session does.
        sqlx::query(
            "UPDATE orders SET checkout_session_id = $2, checkout_url = $3, reserved_until = $4, \
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
}
