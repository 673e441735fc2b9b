//! The order sweep (every minute, on every instance): what a lost webhook or a stopped process would
//! otherwise leave holding stock. Bounded per pass.

use super::Shop;
use crate::db::now_unix;
use crate::domain::OrderId;
use crate::error::AppResult;

/// A pending order whose reservation should have ended this long ago, and whose expiry event has
/// not arrived, is read from Stripe (a lost webhook must not hold stock).
const STALE_AFTER_RESERVATION_SECS: i64 = 10 * 60;
/// A pending order that never got a Checkout Session or intent (the process stopped in between) is
/// failed after this long, its stock released.
const ORPHAN_AFTER_SECS: i64 = 10 * 60;
const SWEEP_BATCH: i64 = 50;

impl Shop {
    /// Pending hosted orders past their session's expiry are read from Stripe (a lost expiry event),
    /// unpaid intents past their reservation are canceled, and orders that never reached Stripe are
    /// failed. Returns how many orders it looked at.
    pub async fn sweep_stale_orders(&self) -> AppResult<usize> {
        let now = now_unix();
        let stale = sqlx::query_scalar::<_, OrderId>(
            "SELECT id FROM orders WHERE status = 'pending' AND checkout_session_id IS NOT NULL \
             AND reserved_until < $1 ORDER BY id LIMIT $2",
        )
        .bind(now - STALE_AFTER_RESERVATION_SECS)
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
        let abandoned = self.abandon_stale_intents(now).await?;
        Ok(stale.len() + orphans.len() + abandoned)
    }

    /// Unpaid on-page orders past their reservation: the intent is canceled at Stripe, then the
    /// order follows whatever Stripe says (expired, or paid if the buyer got there first).
    async fn abandon_stale_intents(&self, now: i64) -> AppResult<usize> {
        let stale = sqlx::query_as::<_, (OrderId, String)>(
            "SELECT id, payment_intent_id FROM orders WHERE payment_flow = 'intent' \
             AND status = 'pending' AND payment_intent_id IS NOT NULL AND reserved_until < $1 \
             ORDER BY id LIMIT $2",
        )
        .bind(now)
        .bind(SWEEP_BATCH)
        .fetch_all(&self.db.pool)
        .await?;
        for (order_id, intent_id) in &stale {
            if let Err(error) = self.gateway.cancel_intent(intent_id).await {
                // Succeeded or processing meanwhile: the sync below follows it.
                tracing::info!(%order_id, %error, "payment intent not canceled");
            }
            self.sync_order(*order_id, None).await?;
        }
        Ok(stale.len())
    }
}
