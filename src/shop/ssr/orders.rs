//! Reading orders for their owner: the order page and the dashboard's list.

use super::Shop;
use crate::domain::{Money, OrderId, OrderStatus, UserId};
use crate::error::{AppError, AppResult};
use crate::shop::{OrderItemView, OrderView};
use sqlx::Any;

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: OrderId,
    user_id: UserId,
    status: String,
    currency: String,
    total: i64,
    amount_refunded: i64,
    checkout_session_id: Option<String>,
    payment_intent_id: Option<String>,
    receipt_url: Option<String>,
    created_at: i64,
    paid_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    order_id: OrderId,
    name: String,
    unit_amount: i64,
    quantity: i64,
}

/// The order columns the order page and the dashboard read. Every one an UPDATE can change must be
/// in the `orders_changed` trigger's list (cached signed-in pages), which a test checks against this.
pub const ORDER_COLUMNS: &str = "id, user_id, status, currency, total, amount_refunded, checkout_session_id, \
                             payment_intent_id, receipt_url, created_at, paid_at";

/// How an order is being paid, to recognise the buyer coming back from it.
#[derive(Debug, Clone, Default)]
pub struct PaymentRefs {
    pub checkout_session_id: Option<String>,
    pub payment_intent_id: Option<String>,
}

impl PaymentRefs {
    /// True when `returned` (the `session_id` or `payment_intent` the buyer came back with) is
    /// this order's: only then does the order page ask Stripe before showing it.
    pub fn matches(&self, returned: &str) -> bool {
        [&self.checkout_session_id, &self.payment_intent_id]
            .into_iter()
            .any(|id| id.as_deref() == Some(returned))
    }
}

/// Orders shown on the dashboard, newest first.
const DASHBOARD_ORDERS: i64 = 20;

impl Shop {
    /// The order, for its owner only: anyone else gets `NotFound`, as for an order that does not exist.
    pub async fn order_of(
        &self,
        user_id: UserId,
        order_id: OrderId,
    ) -> AppResult<(OrderView, PaymentRefs)> {
        let row = sqlx::query_as::<_, OrderRow>(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"
        ))
        .bind(order_id)
        .fetch_optional(&self.db.pool)
        .await?
        .filter(|row| row.user_id == user_id)
        .ok_or(AppError::NotFound)?;
        let items = self.items_of(&[row.id]).await?;
        let refs = PaymentRefs {
            checkout_session_id: row.checkout_session_id.clone(),
            payment_intent_id: row.payment_intent_id.clone(),
        };
        Ok((view(row, &items)?, refs))
    }

    /// The user's recent orders that went to a payment (a Checkout Session or a PaymentIntent),
    /// newest first.
    pub async fn orders_of(&self, user_id: UserId) -> AppResult<Vec<OrderView>> {
        let rows = sqlx::query_as::<_, OrderRow>(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = $1 \
             AND (checkout_session_id IS NOT NULL OR payment_intent_id IS NOT NULL) \
             ORDER BY id DESC LIMIT $2"
        ))
        .bind(user_id)
        .bind(DASHBOARD_ORDERS)
        .fetch_all(&self.db.pool)
        .await?;
        let ids: Vec<OrderId> = rows.iter().map(|r| r.id).collect();
        let items = self.items_of(&ids).await?;
        rows.into_iter().map(|row| view(row, &items)).collect()
    }

    async fn items_of(&self, ids: &[OrderId]) -> AppResult<Vec<ItemRow>> {
        let (Some(low), Some(high)) = (ids.iter().min(), ids.iter().max()) else {
            return Ok(Vec::new());
        };
        // One range query instead of an IN list (portable, and the ids are few and close together).
        let rows = sqlx::query_as::<_, ItemRow>(
            "SELECT order_id, name, unit_amount, quantity FROM order_items \
             WHERE order_id >= $1 AND order_id <= $2 ORDER BY order_id, name",
        )
        .bind(*low)
        .bind(*high)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter(|r| ids.contains(&r.order_id))
            .collect())
    }
}

fn view(row: OrderRow, items: &[ItemRow]) -> AppResult<OrderView> {
    let status: OrderStatus = row
        .status
        .parse()
        .map_err(|e| AppError::Internal(format!("order {}: {e}", row.id)))?;
    let money = |amount| Money::new(amount, row.currency.clone());
    Ok(OrderView {
        id: row.id,
        status,
        items: items
            .iter()
            .filter(|i| i.order_id == row.id)
            .map(|i| OrderItemView {
                name: i.name.clone(),
                quantity: i.quantity,
                unit: money(i.unit_amount),
                line_total: money(i.unit_amount * i.quantity),
            })
            .collect(),
        total: money(row.total),
        refunded: money(row.amount_refunded),
        created_at: row.created_at,
        paid_at: row.paid_at,
        receipt_url: row.receipt_url,
    })
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
