//! One open order per buyer (security review 2, H2, L9; the index `orders_one_pending_per_buyer` makes
//! it a rule of the database). Before a new order is made, every pending order of the buyer is ended
//! at Stripe (its Checkout Session expired, its PaymentIntent canceled) and synced, which releases its
//! stock: one account holds at most one order's worth of stock, and a buyer who opened hosted Checkout,
//! came back and changed the cart (or now pays on our page) is not told "sold out" by their own
//! reservation. Stripe settles the race with a payment: an object paid meanwhile cannot be ended, and
//! the sync marks its order paid.

use super::Shop;
use super::cart::Cart;
use super::guest::Buyer;
use super::orders::status_of;
use crate::db::now_unix;
use crate::domain::{OrderId, OrderStatus, UserId};
use crate::error::{AppError, AppResult};
use crate::shop::{CART_ALREADY_PAID, PAYMENT_IN_PROGRESS};

/// A pending order without a Checkout Session or intent is being started by another request of the
/// same buyer (a double submit) until it is this old; then the process that started it has stopped.
const STARTING_FOR_SECS: i64 = 60;

/// What ending the buyer's open orders found.
pub(super) enum OpenOrders {
    /// None is left: a new order may be made.
    Ended,
    /// Another request of the buyer is starting one right now.
    Starting,
}

/// A pending order of the buyer, with what ends it.
type OpenOrder = (OrderId, Option<String>, Option<String>, Option<String>, i64);

impl Shop {
    async fn open_orders(&self, user_id: UserId) -> AppResult<Vec<OpenOrder>> {
        Ok(sqlx::query_as::<_, OpenOrder>(
            "SELECT id, checkout_session_id, payment_intent_id, cart_id, created_at FROM orders \
             WHERE user_id = $1 AND status = 'pending' ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(&self.db.pool)
        .await?)
    }

    /// A guest's open orders: those of their cart (a guest has no other identity).
    async fn open_guest_orders(&self, cart: &Cart) -> AppResult<Vec<OpenOrder>> {
        Ok(sqlx::query_as::<_, OpenOrder>(
            "SELECT id, checkout_session_id, payment_intent_id, cart_id, created_at FROM orders \
             WHERE user_id IS NULL AND cart_id = $1 AND status = 'pending' ORDER BY id",
        )
        .bind(cart.id())
        .fetch_all(&self.db.pool)
        .await?)
    }

    /// Ends one open order at Stripe and follows what Stripe says; its status after, or `None` when
    /// another request of the buyer is starting it right now.
    async fn end_one(&self, order: &OpenOrder) -> AppResult<Option<OrderStatus>> {
        let (order_id, session_id, intent_id, _, created_at) = order;
        let ended = match (session_id, intent_id) {
            (Some(session), _) => self.gateway.expire_checkout_session(session).await,
            (None, Some(intent)) => self.gateway.cancel_intent(intent).await,
            (None, None) if *created_at > now_unix() - STARTING_FOR_SECS => return Ok(None),
            (None, None) => {
                self.abandon(*order_id).await?;
                return Ok(Some(OrderStatus::Failed));
            }
        };
        if let Err(error) = ended {
            // Paid or settling meanwhile (Stripe refuses to end it): the sync below follows it.
            tracing::info!(%order_id, %error, "open order not ended at Stripe");
        }
        self.sync_order(*order_id, None).await?;
        Ok(Some(status_of(&self.db.pool, *order_id).await?))
    }

    /// Ends every pending order of the buyer. Refuses when one of them was paid meanwhile and was made
    /// from this `cart` (it is bought: paying it again would charge twice), or when one cannot be
    /// ended because its payment is still being confirmed.
    pub(super) async fn end_open_orders(
        &self,
        buyer: Buyer<'_>,
        cart: &Cart,
    ) -> AppResult<OpenOrders> {
        let open = match buyer {
            Buyer::Account(user) => self.open_orders(user.id).await?,
            Buyer::Guest(_) => self.open_guest_orders(cart).await?,
        };
        for order in open {
            let Some(status) = self.end_one(&order).await? else {
                return Ok(OpenOrders::Starting);
            };
            let (order_id, _, _, cart_id, _) = order;
            if status.was_paid() && cart_id.is_some() && cart_id.as_deref() == cart.id() {
                return Err(AppError::Conflict(CART_ALREADY_PAID.into()));
            }
            if status == OrderStatus::Pending {
                return Err(AppError::Conflict(PAYMENT_IN_PROGRESS.into()));
            }
            tracing::info!(%order_id, %status, "open order ended before a new one; stock released");
        }
        Ok(OpenOrders::Ended)
    }

    /// Before an account is erased (issue 21): every pending order is ended at Stripe, so nothing
    /// can be paid once the buyer is gone, and its stock goes back. Refuses while a payment is still
    /// being confirmed (the buyer tries again in a minute).
    #[tracing::instrument(skip(self))]
    pub async fn end_open_orders_before_erasure(&self, user_id: UserId) -> AppResult<()> {
        for order in self.open_orders(user_id).await? {
            match self.end_one(&order).await? {
                None | Some(OrderStatus::Pending) => {
                    return Err(AppError::Conflict(PAYMENT_IN_PROGRESS.into()));
                }
                Some(status) => tracing::info!(order_id = %order.0, %status, "open order ended"),
            }
        }
        Ok(())
    }
}
