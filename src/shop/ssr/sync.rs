//! `sync_order`, the one writer of an order's payment status after checkout. Like `sync_customer`
//! for subscriptions, it never trusts what an event or a browser says: it reads the order's Checkout
//! Session and PaymentIntent from Stripe and moves the order forward to match (`order::walk`), in one
//! transaction with the events' record. It runs in the shared envelope (`crate::stripe_sync`):
//! duplicates answered before any Stripe read, syncs of one order coalesced, one deadline for the
//! read, the buyer's pages forgotten after the write.

use super::Shop;
use super::attention::{Charged, Expected, needs_operator};
use super::money::{OrderMoney, write_money};
use super::order::walk;
use crate::db::now_unix;
use crate::domain::{CheckoutSessionId, OrderId, OrderStatus, PaymentFlow, UserId};
use crate::error::AppResult;
use crate::stripe_gateway::{
    CheckoutSessionStatus, IntentState, PaymentRecord, PaymentStatus, VerifiedEvent,
};
use crate::stripe_sync::{RoundReport, SyncOutcome, ledger};
use sqlx::{Any, Transaction};

/// Stripe's view of an order, reduced to what decides its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StripeView {
    pub target: OrderStatus,
    pub payment_intent_id: Option<String>,
    pub receipt_url: Option<String>,
    /// What Stripe charged, once the payment succeeded.
    pub amount_charged: Option<i64>,
    /// The payment's currency, when there is a payment.
    pub currency: Option<String>,
    pub amount_refunded: i64,
    /// Hosted Checkout: the money as Stripe computed it, where it ships, the code entered.
    pub checkout: Option<OrderMoney>,
}

/// The state Stripe's objects put a hosted-Checkout order in.
pub(super) fn target_status(
    session: CheckoutSessionStatus,
    paid: PaymentStatus,
    payment: Option<&PaymentRecord>,
) -> OrderStatus {
    let failed = payment
        .is_some_and(|p| matches!(p.state, IntentState::AttemptFailed | IntentState::Canceled));
    match (session, paid) {
        (CheckoutSessionStatus::Expired, _) => OrderStatus::Expired,
        (CheckoutSessionStatus::Complete, PaymentStatus::Paid) => match payment {
            Some(p) => OrderStatus::of_paid(p.amount_received, p.amount_refunded),
            // Nothing to charge (no PaymentIntent): paid, and nothing to refund.
            None => OrderStatus::Paid,
        },
        // A delayed method (bank debit) completes unpaid, then settles or fails.
        (CheckoutSessionStatus::Complete, _) if failed => OrderStatus::Failed,
        _ => OrderStatus::Pending,
    }
}

/// The state a PaymentIntent paid on our own page puts its order in. A failed attempt leaves the
/// order payable (the buyer may try another card); only a canceled intent ends it.
pub(super) fn intent_target_status(payment: &PaymentRecord) -> OrderStatus {
    match payment.state {
        IntentState::Succeeded => {
            OrderStatus::of_paid(payment.amount_received, payment.amount_refunded)
        }
        IntentState::Canceled => OrderStatus::Expired,
        IntentState::InProgress | IntentState::AttemptFailed => OrderStatus::Pending,
    }
}

/// What the database holds of how an order is paid.
struct PaidThrough {
    session_id: Option<String>,
    intent_id: Option<String>,
    flow: Option<PaymentFlow>,
    /// None once the buyer's account was erased (issue 21): the order is kept without them.
    user_id: Option<UserId>,
}

impl Shop {
    /// Reads the order's state from Stripe and writes it, recording `event` in the same transaction.
    #[tracing::instrument(skip(self, event), fields(event_id = event.map(|e| e.id.as_str())))]
    pub async fn sync_order(
        &self,
        order_id: OrderId,
        event: Option<&VerifiedEvent>,
    ) -> AppResult<SyncOutcome<()>> {
        if self.syncs.already_applied(event).await? {
            return Ok(SyncOutcome::Duplicate);
        }
        let shop = self.clone();
        let round = move |batch: Vec<Option<VerifiedEvent>>| {
            let shop = shop.clone();
            async move { shop.order_round(order_id, batch).await }
        };
        self.syncs
            .run(
                &order_id.to_string(),
                event.cloned(),
                event.map(|e| &e.id),
                round,
            )
            .await
    }

    /// An event about an order that is not ours: recorded, so a redelivery is a duplicate.
    pub async fn record_foreign_order_event(
        &self,
        event: &VerifiedEvent,
    ) -> AppResult<SyncOutcome<()>> {
        if self.syncs.already_applied(Some(event)).await? {
            return Ok(SyncOutcome::Duplicate);
        }
        self.syncs.record_not_ours(Some(event)).await
    }

    /// One round for the order: one read of Stripe, one transaction for the batch's events.
    async fn order_round(
        &self,
        order_id: OrderId,
        batch: Vec<Option<VerifiedEvent>>,
    ) -> AppResult<RoundReport<()>> {
        let events: Vec<&VerifiedEvent> = batch.iter().flatten().collect();
        let Some(paid_through) = self.paid_through(order_id).await? else {
            let duplicates = ledger::record_only(&self.db, &events).await?;
            return Ok(RoundReport::nothing_of_ours(duplicates));
        };
        let view = self
            .syncs
            .read_within_deadline(self.read_view(&paid_through))
            .await?;
        let mut tx = self.db.pool.begin().await?;
        if let Some(view) = &view {
            // The write comes first: on SQLite a transaction that read before writing cannot take
            // the write lock once another connection has committed (SQLITE_BUSY, not waited out).
            self.apply_view(&mut tx, order_id, view).await?;
        }
        let duplicates = ledger::record_all(&mut tx, &events).await?;
        tx.commit().await?;
        Ok(RoundReport {
            applied: Some(()),
            duplicates,
            changed_user: paid_through.user_id,
        })
    }

    async fn paid_through(&self, order_id: OrderId) -> AppResult<Option<PaidThrough>> {
        let row = sqlx::query_as::<_, (Option<String>, Option<String>, String, Option<UserId>)>(
            "SELECT checkout_session_id, payment_intent_id, payment_flow, user_id \
             FROM orders WHERE id = $1",
        )
        .bind(order_id)
        .fetch_optional(&self.db.pool)
        .await?;
        Ok(
            row.map(|(session_id, intent_id, flow, user_id)| PaidThrough {
                session_id,
                intent_id,
                flow: flow.parse().ok(),
                user_id,
            }),
        )
    }

    /// Stripe's view of the order: its Checkout Session's, or for an order paid on our page, its
    /// PaymentIntent's. None when it never reached Stripe.
    async fn read_view(&self, order: &PaidThrough) -> AppResult<Option<StripeView>> {
        match (&order.session_id, &order.intent_id, order.flow) {
            (Some(session), _, _) => Ok(Some(self.read_session(session).await?)),
            (None, Some(intent), Some(PaymentFlow::Intent)) => {
                Ok(Some(self.read_intent(intent).await?))
            }
            _ => Ok(None),
        }
    }

    async fn read_session(&self, session_id: &str) -> AppResult<StripeView> {
        let session = self
            .gateway
            .checkout_session(&CheckoutSessionId::from(session_id))
            .await?;
        let payment = match &session.payment_intent_id {
            Some(id) => Some(self.gateway.payment(id).await?),
            None => None,
        };
        let target = target_status(session.status, session.payment_status, payment.as_ref());
        Ok(StripeView {
            target,
            payment_intent_id: session.payment_intent_id.clone(),
            receipt_url: payment.as_ref().and_then(|p| p.receipt_url.clone()),
            amount_charged: payment
                .as_ref()
                .filter(|_| target.was_paid())
                .map(|p| p.amount_received),
            currency: payment.as_ref().map(|p| p.currency.clone()),
            amount_refunded: payment.as_ref().map_or(0, |p| p.amount_refunded),
            checkout: session.totals.map(|totals| OrderMoney {
                totals,
                shipping: session.shipping.clone(),
                promotion_code: session.promotion_code.clone(),
                email: session.customer_email.clone(),
            }),
        })
    }

    /// An order paid on our own page: its PaymentIntent decides.
    async fn read_intent(&self, intent_id: &str) -> AppResult<StripeView> {
        let payment = self.gateway.payment(intent_id).await?;
        let target = intent_target_status(&payment);
        Ok(StripeView {
            target,
            payment_intent_id: Some(payment.id.clone()),
            receipt_url: payment.receipt_url.clone(),
            amount_charged: target.was_paid().then_some(payment.amount_received),
            currency: Some(payment.currency.clone()),
            amount_refunded: payment.amount_refunded,
            // What we asked this intent to charge was written when it was made.
            checkout: None,
        })
    }

    /// Moves the order step by step to Stripe's state; each step's stock move and mail happen only
    /// if that step's conditional UPDATE matched (so exactly once). The amounts decide (security
    /// review 2, L2): an order is paid only for its own total in its own currency, and a state that
    /// cannot be reached from ours is not forced: the order waits for the operator (`attention`).
    async fn apply_view(
        &self,
        tx: &mut Transaction<'_, Any>,
        order_id: OrderId,
        view: &StripeView,
    ) -> AppResult<()> {
        // Stripe's refunded amount as it is now: it goes down again when a refund fails.
        sqlx::query(
            "UPDATE orders SET payment_intent_id = COALESCE($2, payment_intent_id), \
             receipt_url = COALESCE($3, receipt_url), amount_charged = COALESCE($4, amount_charged), \
             amount_refunded = $5, updated_at = $6 WHERE id = $1",
        )
        .bind(order_id)
        .bind(&view.payment_intent_id)
        .bind(&view.receipt_url)
        .bind(view.amount_charged)
        .bind(view.amount_refunded)
        .bind(now_unix())
        .execute(&mut **tx)
        .await?;
        if let Some(checkout) = &view.checkout {
            write_money(&mut **tx, order_id, checkout).await?;
        }
        let (current, subtotal, due, currency) =
            sqlx::query_as::<_, (String, i64, Option<i64>, String)>(
                "SELECT status, total, amount_total, currency FROM orders WHERE id = $1",
            )
            .bind(order_id)
            .fetch_one(&mut **tx)
            .await?;
        let current: OrderStatus = current
            .parse()
            .map_err(|e| crate::error::AppError::Internal(format!("order {order_id}: {e}")))?;
        let charged = Charged {
            target: view.target,
            amount_charged: view.amount_charged,
            currency: view.currency.clone(),
            subtotal: view.checkout.as_ref().map(|c| c.totals.subtotal),
            asked: view.checkout.as_ref().map(|c| c.totals.total),
        };
        let expected = Expected {
            subtotal,
            due,
            currency,
        };
        if let Some(reason) = needs_operator(current, &expected, &charged) {
            tracing::error!(%order_id, %current, target = %view.target, %reason, "order needs the operator");
            sqlx::query("UPDATE orders SET attention = $2 WHERE id = $1")
                .bind(order_id)
                .bind(&reason)
                .execute(&mut **tx)
                .await?;
            return Ok(());
        }
        let steps = walk(tx, order_id, current, view.target).await?;
        if steps.contains(&(OrderStatus::Pending, OrderStatus::Paid)) {
            if let Some(user_id) = self.bind_guest_order(tx, order_id).await? {
                tracing::info!(%order_id, %user_id, "guest order bound to the account with its address");
            }
            self.queue_receipt(tx, order_id).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "sync_tests.rs"]
mod tests;
