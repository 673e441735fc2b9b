//! Paying on our own page (`/shop/pay`): a PaymentIntent for the amount our catalog gives. The
//! browser gets only the intent's client secret and confirms it with Stripe.js; the card goes from
//! Stripe's field to Stripe, and the order is fulfilled from the intent as Stripe reports it
//! (`sync_order`), never from what the browser says.
//!
//! The reservation rule: an unpaid intent holds the stock as long as a Checkout Session would
//! (`RESERVATION_SECS`). Past that the sweep cancels the intent at Stripe (`abandoned`) and syncs
//! the order: canceled → expired, stock released; if it succeeded meanwhile, Stripe refuses the
//! cancel and the sync marks it paid. Stripe settles that race, not our clock.

use super::guest::Buyer;
use super::payment::{
    CardPayment, NewOrder, PayError, PaymentStart, RESERVATION_SECS, WayToPay, total_of,
};
use super::{Cart, SessionCart, Shop, order_tag};
use crate::auth::User;
use crate::db::now_unix;
use crate::domain::{Money, OrderId};
use crate::error::{AppError, AppResult};
use crate::shop::PAY_ON_PAGE_OFF;
use crate::stripe_gateway::{IntentState, NewOrderIntent};

impl Shop {
    /// The publishable key when paying on our own page is set up.
    pub fn publishable_key(&self) -> Option<&str> {
        self.config.stripe.publishable_key.as_deref()
    }

    /// Where the browser loads Stripe.js from.
    pub fn stripe_js_url(&self) -> &str {
        self.config.stripe.js_url.as_str()
    }

    /// What `/shop/pay`'s CSP admits for Stripe.js.
    pub fn stripe_js_sources(&self) -> crate::csp::StripeJsSources {
        self.config.stripe_js_sources()
    }

    /// The PaymentIntent of this cart's order: the open one of the same cart (a retry after a
    /// declined card, a reload), or a new order with its reservation and a new intent.
    pub async fn pay_cart(
        &self,
        user: &User,
        session: &SessionCart,
        shown_version: &str,
    ) -> AppResult<CardPayment> {
        let publishable_key = self
            .publishable_key()
            .ok_or_else(|| AppError::Invalid(PAY_ON_PAGE_OFF.into()))?;
        let way = WayToPay::OnPage {
            publishable_key,
            shown_version,
        };
        match self
            .pay_session_cart(Buyer::Account(user), session, way)
            .await?
        {
            PaymentStart::Card(payment) => Ok(payment),
            PaymentStart::Redirect(_) => Err(AppError::Internal(
                "paying on the page answered with a redirect".into(),
            )),
        }
    }

    /// Creates the order's PaymentIntent and stores it on the order, with its reservation.
    pub(super) async fn create_intent(
        &self,
        order: &NewOrder<'_>,
        publishable_key: &str,
    ) -> Result<CardPayment, PayError> {
        let order_id = order.id;
        let total = Money::new(total_of(order.lines), order.currency.to_owned());
        let tag = order_tag(self.installation.id(), order_id);
        let intent = self
            .gateway
            .create_order_intent(NewOrderIntent {
                // Only account holders pay here (`open_payment_of` refuses guests).
                customer_id: order.customer_id.ok_or(AppError::Unauthenticated)?,
                amount: total.amount,
                currency: &total.currency,
                order_id: order_id.get(),
                order_tag: &tag,
                description: &format!("Order #{order_id}"),
                idempotency_key: &format!("storefront-{tag}-intent").replace(':', "-"),
            })
            .await?;
        sqlx::query(
            "UPDATE orders SET payment_intent_id = $2, reserved_until = $3, updated_at = $4 \
             WHERE id = $1",
        )
        .bind(order_id)
        .bind(&intent.id)
        .bind(now_unix() + RESERVATION_SECS)
        .bind(now_unix())
        .execute(&self.db.pool)
        .await?;
        tracing::info!(%order_id, payment_intent = %intent.id, "order payment intent created");
        Ok(CardPayment {
            order_id,
            client_secret: intent.client_secret,
            publishable_key: publishable_key.to_owned(),
            total,
        })
    }

    /// This user's unpaid on-page order of the same cart whose intent can still be paid.
    pub(super) async fn open_intent_of(
        &self,
        user: &User,
        cart: &Cart,
        publishable_key: &str,
    ) -> AppResult<Option<CardPayment>> {
        let Some((order_id, intent_id, total, currency)) =
            sqlx::query_as::<_, (OrderId, String, i64, String)>(
                "SELECT id, payment_intent_id, total, currency FROM orders WHERE user_id = $1 \
                 AND cart_id = $2 AND cart_key = $3 AND status = 'pending' AND payment_flow = 'intent' \
                 AND payment_intent_id IS NOT NULL AND reserved_until > $4 \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(user.id)
            .bind(cart.id())
            .bind(cart.key())
            .bind(now_unix())
            .fetch_optional(&self.db.pool)
            .await?
        else {
            return Ok(None);
        };
        let intent = self.gateway.order_intent(&intent_id).await?;
        if intent.state == IntentState::Canceled {
            // Canceled at Stripe (by the sweep or in the dashboard): follow it, then start anew.
            self.sync_order(order_id, None).await?;
            return Ok(None);
        }
        Ok(Some(CardPayment {
            order_id,
            client_secret: intent.client_secret,
            publishable_key: publishable_key.to_owned(),
            total: Money::new(total, currency),
        }))
    }
}
