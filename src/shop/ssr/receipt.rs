//! The receipt of a paid order, queued in the transaction that marks it paid (so exactly one per
//! order: the step runs once, and the outbox's dedupe key `receipt:order:{id}` backs that up).

use super::Shop;
use crate::domain::{Email, Money, OrderId};
use crate::error::AppResult;
use crate::mail::enqueue;
use crate::mail::templates::{OrderReceipt, ReceiptLine, order_receipt};
use sqlx::{Any, Transaction};

impl Shop {
    pub(super) async fn queue_receipt(
        &self,
        tx: &mut Transaction<'_, Any>,
        order_id: OrderId,
    ) -> AppResult<()> {
        let (email, currency, total, receipt_url) =
            sqlx::query_as::<_, (Option<String>, String, i64, Option<String>)>(
                "SELECT u.email, o.currency, o.total, o.receipt_url \
                 FROM orders o LEFT JOIN users u ON u.id = o.user_id WHERE o.id = $1",
            )
            .bind(order_id)
            .fetch_one(&mut **tx)
            .await?;
        // The buyer erased their account (issue 21): the order is kept, nobody is mailed.
        let Some(email) = email else {
            tracing::info!(%order_id, "receipt not queued: the buyer's account was erased");
            return Ok(());
        };
        let items = sqlx::query_as::<_, (String, i64, i64)>(
            "SELECT name, quantity, unit_amount FROM order_items WHERE order_id = $1 ORDER BY name",
        )
        .bind(order_id)
        .fetch_all(&mut **tx)
        .await?;
        // A stored address that no longer parses must not keep the order from being recorded as
        // paid (security review 2, L11: the step rolled back, the webhook failed for days and the
        // sweep stopped at it); the payment stands, the mail is skipped and said so.
        let Ok(to) = Email::parse(&email) else {
            tracing::error!(%order_id, "receipt not queued: the buyer's stored e-mail is unreadable");
            return Ok(());
        };
        let money = |amount| Money::new(amount, currency.clone());
        let receipt = order_receipt(OrderReceipt {
            order_id: order_id.get(),
            to,
            lines: items
                .into_iter()
                .map(|(name, quantity, unit)| ReceiptLine {
                    name,
                    quantity,
                    unit_amount: money(unit),
                    line_total: money(unit * quantity),
                })
                .collect(),
            total: money(total),
            order_url: self.config.url(&format!("/shop/orders/{order_id}")),
            dashboard_url: self.config.url("/dashboard"),
            stripe_receipt_url: receipt_url,
        });
        enqueue(tx, &receipt).await?;
        Ok(())
    }
}
