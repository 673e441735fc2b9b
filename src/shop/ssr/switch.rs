//! One open way to pay per cart. A buyer who opened hosted Checkout, came back and now pays on our
//! page (or the reverse) would otherwise hold the cart's stock twice until the first order expires,
//! and with the last unit in stock would be told it is sold out, by their own reservation.

use super::Shop;
use crate::auth::User;
use crate::domain::{OrderId, OrderStatus, PaymentFlow};
use crate::error::{AppError, AppResult};
use crate::shop::{CART_ALREADY_PAID, PAYMENT_IN_PROGRESS};

impl Shop {
    /// Before the cart is paid the `keep` way, its open order of the other way is ended at Stripe
    /// (the Checkout Session expired, or the PaymentIntent canceled) and synced, which releases its
    /// stock. If Stripe refuses because that order was paid meanwhile (or is still settling), the
    /// buyer is told so instead of paying twice.
    pub(super) async fn end_other_way_to_pay(
        &self,
        user: &User,
        cart_key: &str,
        keep: PaymentFlow,
    ) -> AppResult<()> {
        let other = keep.other();
        let open = sqlx::query_as::<_, (OrderId, Option<String>, Option<String>)>(
            "SELECT id, checkout_session_id, payment_intent_id FROM orders WHERE user_id = $1 \
             AND cart_key = $2 AND status = 'pending' AND payment_flow = $3 ORDER BY id",
        )
        .bind(user.id)
        .bind(cart_key)
        .bind(other.as_str())
        .fetch_all(&self.db.pool)
        .await?;
        for (order_id, session_id, intent_id) in open {
            let ended = match (other, session_id, intent_id) {
                (PaymentFlow::Checkout, Some(session), _) => {
                    self.gateway.expire_checkout_session(&session).await
                }
                (PaymentFlow::Intent, _, Some(intent)) => self.gateway.cancel_intent(&intent).await,
                // It never reached Stripe: the sweep fails it.
                _ => continue,
            };
            if let Err(error) = ended {
                tracing::info!(%order_id, %error, "open order of the other way to pay not ended");
            }
            self.sync_order(order_id, None).await?;
            let status = super::order::status_of(&self.db.pool, order_id).await?;
            if status.was_paid() {
                return Err(AppError::Conflict(CART_ALREADY_PAID.into()));
            }
            if status == OrderStatus::Pending {
                return Err(AppError::Conflict(PAYMENT_IN_PROGRESS.into()));
            }
            tracing::info!(%order_id, "open order of the other way to pay ended; stock released");
        }
        Ok(())
    }
}
