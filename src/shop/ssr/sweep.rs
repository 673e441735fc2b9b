//! The order sweep (every minute, on every instance): what a lost webhook or a stopped process would
//! otherwise leave holding stock. Bounded per pass (`SWEEP_BATCH` orders of each kind, and no new order
//! after `SWEEP_PASS_BUDGET`). Each order is handled on its own (security review 2, M3): one that
//! cannot be settled (Stripe failing for it, a payment still settling) is logged, counted and looked
//! at again after a doubling pause (`orders.sweep_after`), and the pass goes on with the next, so it
//! can neither stop the sweep nor keep newer stale orders from being reached.

use super::Shop;
use super::orders::status_of;
use crate::db::now_unix;
use crate::domain::{OrderId, OrderStatus};
use crate::error::AppResult;
use std::time::{Duration, Instant};

/// A pending order whose reservation should have ended this long ago, and whose expiry event has
/// not arrived, is read from Stripe (a lost webhook must not hold stock).
const STALE_AFTER_RESERVATION_SECS: i64 = 10 * 60;
/// A pending order that never got a Checkout Session or intent (the process stopped in between) is
/// failed after this long, its stock released.
const ORPHAN_AFTER_SECS: i64 = 10 * 60;
const SWEEP_BATCH: i64 = 50;
/// No order is started after this much of a pass (the pass runs every minute; each order's Stripe
/// work is bounded by the sync deadline).
const SWEEP_PASS_BUDGET: Duration = Duration::from_secs(40);
/// The pause before an order the sweep could not settle is looked at again: doubling from a minute,
/// at most an hour.
const FIRST_PAUSE_SECS: i64 = 60;
const MAX_PAUSE_SECS: i64 = 60 * 60;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// Orders looked at.
    pub looked: usize,
    /// Of those, orders whose handling failed (each is looked at again after its pause).
    pub failed: usize,
}

/// The three kinds of order the sweep looks at, each with its query.
#[derive(Debug, Clone, Copy)]
enum Stale {
    /// Hosted orders past their session's expiry: read from Stripe (a lost expiry event).
    Hosted,
    /// Orders that never reached Stripe: failed.
    Orphan,
    /// On-page orders past their reservation: the intent is canceled, then the order follows Stripe.
    Intent,
}

impl Stale {
    fn query(self) -> &'static str {
        match self {
            Stale::Hosted => {
                "SELECT id, payment_intent_id FROM orders WHERE status = 'pending' \
                 AND checkout_session_id IS NOT NULL AND reserved_until < $1 \
                 AND (sweep_after IS NULL OR sweep_after <= $2) ORDER BY id LIMIT $3"
            }
            Stale::Orphan => {
                "SELECT id, payment_intent_id FROM orders WHERE status = 'pending' \
                 AND checkout_session_id IS NULL AND payment_intent_id IS NULL AND created_at < $1 \
                 AND (sweep_after IS NULL OR sweep_after <= $2) ORDER BY id LIMIT $3"
            }
            Stale::Intent => {
                "SELECT id, payment_intent_id FROM orders WHERE status = 'pending' \
                 AND payment_flow = 'intent' AND payment_intent_id IS NOT NULL \
                 AND reserved_until < $1 AND (sweep_after IS NULL OR sweep_after <= $2) \
                 ORDER BY id LIMIT $3"
            }
        }
    }

    /// The time before which an order of this kind counts as stale.
    fn cutoff(self, now: i64) -> i64 {
        match self {
            Stale::Hosted => now - STALE_AFTER_RESERVATION_SECS,
            Stale::Orphan => now - ORPHAN_AFTER_SECS,
            Stale::Intent => now,
        }
    }
}

impl Shop {
    /// One pass over the stale orders of every kind.
    pub async fn sweep_stale_orders(&self) -> AppResult<SweepReport> {
        let started = Instant::now();
        let now = now_unix();
        let mut report = SweepReport::default();
        for kind in [Stale::Hosted, Stale::Orphan, Stale::Intent] {
            let stale = sqlx::query_as::<_, (OrderId, Option<String>)>(kind.query())
                .bind(kind.cutoff(now))
                .bind(now)
                .bind(SWEEP_BATCH)
                .fetch_all(&self.db.pool)
                .await?;
            for (order_id, intent_id) in stale {
                if started.elapsed() > SWEEP_PASS_BUDGET {
                    return Ok(report);
                }
                let handled = self
                    .settle_stale(kind, order_id, intent_id.as_deref())
                    .await;
                self.after_look(order_id, handled, &mut report).await?;
            }
        }
        Ok(report)
    }

    async fn settle_stale(
        &self,
        kind: Stale,
        order_id: OrderId,
        intent_id: Option<&str>,
    ) -> AppResult<()> {
        match (kind, intent_id) {
            (Stale::Orphan, _) => self.abandon(order_id).await,
            (Stale::Intent, Some(intent_id)) => {
                if let Err(error) = self.gateway.cancel_intent(intent_id).await {
                    // Succeeded or processing meanwhile: the sync below follows it.
                    tracing::info!(%order_id, %error, "payment intent not canceled");
                }
                self.sync_order(order_id, None).await.map(|_| ())
            }
            _ => self.sync_order(order_id, None).await.map(|_| ()),
        }
    }

    /// Counts the look; an order that failed, or is still pending, waits its pause before the next.
    async fn after_look(
        &self,
        order_id: OrderId,
        handled: AppResult<()>,
        report: &mut SweepReport,
    ) -> AppResult<()> {
        report.looked += 1;
        if let Err(error) = &handled {
            report.failed += 1;
            tracing::warn!(%order_id, %error, "sweep: order not settled; it is looked at again later");
        }
        if handled.is_ok() && status_of(&self.db.pool, order_id).await? != OrderStatus::Pending {
            return Ok(());
        }
        let looks = sqlx::query_scalar::<_, i64>("SELECT sweep_looks FROM orders WHERE id = $1")
            .bind(order_id)
            .fetch_one(&self.db.pool)
            .await?;
        let pause = FIRST_PAUSE_SECS
            .saturating_mul(1_i64 << looks.clamp(0, 6))
            .min(MAX_PAUSE_SECS);
        sqlx::query(
            "UPDATE orders SET sweep_looks = sweep_looks + 1, sweep_after = $2 WHERE id = $1",
        )
        .bind(order_id)
        .bind(now_unix() + pause)
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }
}
