//! Fulfilment: `sync_order`, the one writer of an order's state after checkout. Like
//! `sync_customer` for subscriptions, it never trusts what an event or a browser says: it reads the
//! order's Checkout Session and PaymentIntent from Stripe and moves the order forward to match, in
//! one transaction with the event's record. Each step is a conditional UPDATE from the state before
//! it, so a duplicate, a late event or two instances syncing at once apply each step exactly once,
//! and a stale read never moves an order back.

use super::Shop;
use super::stock::{StockMove, apply_move};
use crate::billing::ssr::events::record_event;
use crate::db::now_unix;
use crate::domain::{OrderId, OrderStatus, PaymentFlow, ProductId, UserId};
use crate::error::{AppError, AppResult};
use crate::stripe_gateway::{
    CheckoutSessionStatus, IntentState, PaymentRecord, PaymentStatus, VerifiedEvent,
};
use sqlx::{Any, Transaction};

/// What a sync did, for the webhook's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderSync {
    Applied,
    Duplicate,
    /// No order of ours (another system's, or one deleted): recorded and ignored.
    UnknownOrder,
}

/// Stripe's view of an order, reduced to what decides its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StripeView {
    pub target: OrderStatus,
    pub payment_intent_id: Option<String>,
    pub receipt_url: Option<String>,
    pub amount_refunded: i64,
}

/// The state Stripe's objects put an order in.
pub(super) fn target_status(
    session: CheckoutSessionStatus,
    paid: PaymentStatus,
    payment: Option<&PaymentRecord>,
    total: i64,
) -> OrderStatus {
    let refunded = payment.map_or(0, |p| p.amount_refunded);
    let failed = payment
        .is_some_and(|p| matches!(p.state, IntentState::AttemptFailed | IntentState::Canceled));
    match (session, paid) {
        (CheckoutSessionStatus::Expired, _) => OrderStatus::Expired,
        (CheckoutSessionStatus::Complete, PaymentStatus::Paid)
            if refunded >= total && total > 0 =>
        {
            OrderStatus::Refunded
        }
        (CheckoutSessionStatus::Complete, PaymentStatus::Paid) if refunded > 0 => {
            OrderStatus::PartiallyRefunded
        }
        (CheckoutSessionStatus::Complete, PaymentStatus::Paid) => OrderStatus::Paid,
        // A delayed method (bank debit) completes unpaid, then settles or fails.
        (CheckoutSessionStatus::Complete, _) if failed => OrderStatus::Failed,
        _ => OrderStatus::Pending,
    }
}

/// The state a PaymentIntent paid on our own page puts its order in. A failed attempt leaves the
/// order payable (the buyer may try another card); only a canceled intent ends it.
pub(super) fn intent_target_status(payment: &PaymentRecord, total: i64) -> OrderStatus {
    match payment.state {
        IntentState::Succeeded if payment.amount_refunded >= total && total > 0 => {
            OrderStatus::Refunded
        }
        IntentState::Succeeded if payment.amount_refunded > 0 => OrderStatus::PartiallyRefunded,
        IntentState::Succeeded => OrderStatus::Paid,
        IntentState::Canceled => OrderStatus::Expired,
        IntentState::InProgress | IntentState::AttemptFailed => OrderStatus::Pending,
    }
}

/// The steps from `from` to `to`, each one a legal move (a refund follows the payment).
pub(super) fn steps(from: OrderStatus, to: OrderStatus) -> Vec<(OrderStatus, OrderStatus)> {
    use OrderStatus::*;
    let path: &[OrderStatus] = match to {
        Paid => &[Pending, Paid],
        PartiallyRefunded => &[Pending, Paid, PartiallyRefunded],
        Refunded => &[Pending, Paid, PartiallyRefunded, Refunded],
        Expired => &[Pending, Expired],
        Failed => &[Pending, Failed],
        Pending => &[Pending],
    };
    let Some(start) = path.iter().position(|s| *s == from) else {
        return Vec::new();
    };
    path[start..].windows(2).map(|w| (w[0], w[1])).collect()
}

impl Shop {
    /// Reads the order's state from Stripe and writes it, recording `event` in the same transaction.
    #[tracing::instrument(skip(self, event), fields(event_id = event.map(|e| e.id.as_str())))]
    pub async fn sync_order(
        &self,
        order_id: OrderId,
        event: Option<&VerifiedEvent>,
    ) -> AppResult<OrderSync> {
        let Some((session_id, intent_id, flow, total, user_id)) =
            sqlx::query_as::<_, (Option<String>, Option<String>, String, i64, UserId)>(
                "SELECT checkout_session_id, payment_intent_id, payment_flow, total, user_id \
             FROM orders WHERE id = $1",
            )
            .bind(order_id)
            .fetch_optional(&self.db.pool)
            .await?
        else {
            return self.record_only(event, OrderSync::UnknownOrder).await;
        };
        let view = match (session_id, intent_id) {
            (Some(session), _) => Some(self.read_stripe(&session, total).await?),
            (None, Some(intent)) if flow == PaymentFlow::Intent.as_str() => {
                Some(self.read_intent(&intent, total).await?)
            }
            _ => None,
        };
        let mut tx = self.db.pool.begin().await?;
        if let Some(event) = event
            && !record_event(&mut tx, event).await?
        {
            tx.rollback().await?;
            return Ok(OrderSync::Duplicate);
        }
        if let Some(view) = view {
            self.apply_view(&mut tx, order_id, &view).await?;
        }
        tx.commit().await?;
        self.billing.forget_cached_user(user_id);
        Ok(OrderSync::Applied)
    }

    async fn read_stripe(&self, session_id: &str, total: i64) -> AppResult<StripeView> {
        let session = self
            .gateway
            .checkout_session(&crate::domain::CheckoutSessionId::from(session_id))
            .await?;
        let payment = match &session.payment_intent_id {
            Some(id) => Some(self.gateway.payment(id).await?),
            None => None,
        };
        Ok(StripeView {
            target: target_status(
                session.status,
                session.payment_status,
                payment.as_ref(),
                total,
            ),
            payment_intent_id: session.payment_intent_id.clone(),
            receipt_url: payment.as_ref().and_then(|p| p.receipt_url.clone()),
            amount_refunded: payment.as_ref().map_or(0, |p| p.amount_refunded),
        })
    }

    /// An order paid on our own page: its PaymentIntent decides.
    async fn read_intent(&self, intent_id: &str, total: i64) -> AppResult<StripeView> {
        let payment = self.gateway.payment(intent_id).await?;
        Ok(StripeView {
            target: intent_target_status(&payment, total),
            payment_intent_id: Some(payment.id.clone()),
            receipt_url: payment.receipt_url.clone(),
            amount_refunded: payment.amount_refunded,
        })
    }

    /// Moves the order step by step to Stripe's state; each step's stock move and mail happen only
    /// if that step's conditional UPDATE matched (so exactly once).
    async fn apply_view(
        &self,
        tx: &mut Transaction<'_, Any>,
        order_id: OrderId,
        view: &StripeView,
    ) -> AppResult<()> {
        // The write comes first: on SQLite a transaction that read before writing cannot take the
        // write lock once another connection has committed (SQLITE_BUSY, not waited out).
        sqlx::query(
            "UPDATE orders SET payment_intent_id = COALESCE($2, payment_intent_id), \
             receipt_url = COALESCE($3, receipt_url), \
             amount_refunded = CASE WHEN amount_refunded > $4 THEN amount_refunded ELSE $4 END, \
             updated_at = $5 WHERE id = $1",
        )
        .bind(order_id)
        .bind(&view.payment_intent_id)
        .bind(&view.receipt_url)
        .bind(view.amount_refunded)
        .bind(now_unix())
        .execute(&mut **tx)
        .await?;
        let current = status_of(&mut **tx, order_id).await?;
        for (from, to) in steps(current, view.target) {
            if !move_status(tx, order_id, from, to).await? {
                break;
            }
            match (from, to) {
                (OrderStatus::Pending, OrderStatus::Paid) => {
                    move_items(tx, order_id, StockMove::Sell).await?;
                    self.queue_receipt(tx, order_id).await?;
                }
                (OrderStatus::Pending, _) => move_items(tx, order_id, StockMove::Release).await?,
                (_, OrderStatus::Refunded) => move_items(tx, order_id, StockMove::Return).await?,
                _ => {}
            }
            tracing::info!(%order_id, from = %from, to = %to, "order moved");
        }
        Ok(())
    }

    /// An event about an order that is not ours: recorded, so a redelivery is a duplicate.
    pub async fn sync_order_unknown(&self, event: &VerifiedEvent) -> AppResult<OrderSync> {
        self.record_only(Some(event), OrderSync::UnknownOrder).await
    }

    async fn record_only(
        &self,
        event: Option<&VerifiedEvent>,
        outcome: OrderSync,
    ) -> AppResult<OrderSync> {
        let Some(event) = event else {
            return Ok(outcome);
        };
        let mut tx = self.db.pool.begin().await?;
        let fresh = record_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(if fresh { outcome } else { OrderSync::Duplicate })
    }
}

/// The order's stored status.
pub(super) async fn status_of<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    order_id: OrderId,
) -> AppResult<OrderStatus> {
    sqlx::query_scalar::<_, String>("SELECT status FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_one(executor)
        .await?
        .parse()
        .map_err(|e| AppError::Internal(format!("order {order_id}: {e}")))
}

/// One step of an order's state, only from `from`; false when the order was not there (another
/// sync got there first, or it is elsewhere).
pub(super) async fn move_status(
    tx: &mut Transaction<'_, Any>,
    order_id: OrderId,
    from: OrderStatus,
    to: OrderStatus,
) -> AppResult<bool> {
    let now = now_unix();
    let moved = sqlx::query(
        "UPDATE orders SET status = $3, updated_at = $4, \
         paid_at = CASE WHEN $3 = 'paid' THEN $4 ELSE paid_at END \
         WHERE id = $1 AND status = $2",
    )
    .bind(order_id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(moved.rows_affected() == 1)
}

/// Applies a stock move to every item of the order.
pub(super) async fn move_items(
    tx: &mut Transaction<'_, Any>,
    order_id: OrderId,
    stock_move: StockMove,
) -> AppResult<()> {
    let items = sqlx::query_as::<_, (ProductId, i64)>(
        "SELECT product_id, quantity FROM order_items WHERE order_id = $1",
    )
    .bind(order_id)
    .fetch_all(&mut **tx)
    .await?;
    for (product_id, quantity) in items {
        apply_move(tx, &product_id, quantity, stock_move).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(state: IntentState, refunded: i64) -> PaymentRecord {
        PaymentRecord {
            id: "pi_1".into(),
            state,
            amount_received: if state == IntentState::Succeeded {
                4900
            } else {
                0
            },
            order_tag: None,
            amount_refunded: refunded,
            receipt_url: None,
        }
    }

    #[test]
    fn an_on_page_order_stays_payable_until_its_intent_succeeds_or_is_canceled() {
        use IntentState::*;
        let cases = [
            (InProgress, 0, OrderStatus::Pending),
            // A decline or failed 3-D Secure: the buyer may try another card.
            (AttemptFailed, 0, OrderStatus::Pending),
            (Canceled, 0, OrderStatus::Expired),
            (Succeeded, 0, OrderStatus::Paid),
            (Succeeded, 900, OrderStatus::PartiallyRefunded),
            (Succeeded, 4900, OrderStatus::Refunded),
        ];
        for (state, refunded, expected) in cases {
            assert_eq!(
                intent_target_status(&intent(state, refunded), 4900),
                expected,
                "{state:?}, {refunded} refunded"
            );
        }
    }

    #[test]
    fn a_hosted_checkout_fails_on_a_failed_attempt_or_a_canceled_intent() {
        for state in [IntentState::AttemptFailed, IntentState::Canceled] {
            let target = target_status(
                CheckoutSessionStatus::Complete,
                PaymentStatus::Unpaid,
                Some(&intent(state, 0)),
                4900,
            );
            assert_eq!(target, OrderStatus::Failed, "{state:?}");
        }
        let settling = target_status(
            CheckoutSessionStatus::Complete,
            PaymentStatus::Unpaid,
            Some(&intent(IntentState::InProgress, 0)),
            4900,
        );
        assert_eq!(settling, OrderStatus::Pending);
    }

    #[test]
    fn steps_walk_forward_only() {
        use OrderStatus::*;
        assert_eq!(
            steps(Pending, Refunded),
            vec![
                (Pending, Paid),
                (Paid, PartiallyRefunded),
                (PartiallyRefunded, Refunded)
            ]
        );
        assert_eq!(steps(Paid, Pending), vec![]);
        assert_eq!(steps(Expired, Paid), vec![]);
    }
}
