//! The receipt of a paid order, queued in the transaction that marks it paid (so exactly one per
//! order: the step runs once, and the outbox's dedupe key `receipt:order:{id}` backs that up). Its
//! lines and money are the order page's (`OrderView::charge_lines`): what Stripe charged.

use super::Shop;
use super::orders::order_view_in;
use crate::domain::{Email, OrderId};
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
        let order = order_view_in(tx, order_id).await?;
        // A guest's address is the one Checkout collected (issue 22), also once the order is bound
        // to an account; their receipt links to the order through its signed link.
        let (account_email, guest_email) = sqlx::query_as::<_, (Option<String>, Option<String>)>(
            "SELECT u.email, o.guest_email FROM orders o LEFT JOIN users u ON u.id = o.user_id \
                 WHERE o.id = $1",
        )
        .bind(order_id)
        .fetch_one(&mut **tx)
        .await?;
        let order_path = match &guest_email {
            Some(_) => self.guest_order_path(order_id),
            None => format!("/shop/orders/{order_id}"),
        };
        // The buyer erased their account (issue 21): the order is kept, nobody is mailed.
        let Some(email) = guest_email.or(account_email) else {
            tracing::info!(%order_id, "receipt not queued: no address (the account was erased)");
            return Ok(());
        };
        // A stored address that no longer parses must not keep the order from being recorded as
        // paid (security review 2, L11: the step rolled back, the webhook failed for days and the
        // sweep stopped at it); the payment stands, the mail is skipped and said so.
        let Ok(to) = Email::parse(&email) else {
            tracing::error!(%order_id, "receipt not queued: the buyer's stored e-mail is unreadable");
            return Ok(());
        };
        let receipt = order_receipt(OrderReceipt {
            order_id: order_id.get(),
            to,
            charges: order
                .charge_lines()
                .into_iter()
                .map(|l| (l.label, l.amount))
                .collect(),
            ship_to: order
                .shipment
                .as_ref()
                .map(|s| s.address.clone())
                .unwrap_or_default(),
            lines: order
                .items
                .into_iter()
                .map(|item| ReceiptLine {
                    name: item.name,
                    quantity: item.quantity,
                    unit_amount: item.unit,
                    line_total: item.line_total,
                })
                .collect(),
            total: order.total,
            order_url: self.config.url(&order_path),
            dashboard_url: self.config.url("/dashboard"),
            stripe_receipt_url: order.receipt_url,
        });
        enqueue(tx, &receipt).await?;
        Ok(())
    }
}
