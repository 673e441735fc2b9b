//! Reading orders for their owner: the order page and the dashboard's list.

use super::Shop;
use super::guest::{Viewer, link_opens};
use crate::domain::{Money, OrderId, OrderStatus, ShippingAddress, UserId};
use crate::error::{AppError, AppResult};
use crate::shop::{OrderCharges, OrderItemView, OrderView, ShipmentView};
use sqlx::Any;

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: OrderId,
    user_id: Option<UserId>,
    status: String,
    currency: String,
    total: i64,
    amount_refunded: i64,
    checkout_session_id: Option<String>,
    payment_intent_id: Option<String>,
    receipt_url: Option<String>,
    created_at: i64,
    paid_at: Option<i64>,
    amount_subtotal: Option<i64>,
    amount_discount: i64,
    amount_shipping: i64,
    amount_tax: i64,
    amount_total: Option<i64>,
    promotion_code: Option<String>,
    shipping_rate: Option<String>,
    shipping_delivery: Option<String>,
    ship_name: Option<String>,
    ship_line1: Option<String>,
    ship_line2: Option<String>,
    ship_city: Option<String>,
    ship_state: Option<String>,
    ship_postal_code: Option<String>,
    ship_country: Option<String>,
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
    payment_intent_id, receipt_url, created_at, paid_at, amount_subtotal, amount_discount, \
    amount_shipping, amount_tax, amount_total, promotion_code, shipping_rate, shipping_delivery, \
    ship_name, ship_line1, ship_line2, ship_city, ship_state, ship_postal_code, ship_country";

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
    /// The order, for its owner or the holder of its signed link (issue 22, guests) only: anyone
    /// else gets `NotFound`, as for an order that does not exist.
    pub async fn order_for(
        &self,
        viewer: Viewer<'_>,
        order_id: OrderId,
    ) -> AppResult<(OrderView, PaymentRefs)> {
        let may_see = |row: &OrderRow| match viewer {
            Viewer::Account(user_id) => row.user_id == Some(user_id),
            // The link stays good once the order is bound to an account: the receipt carries it.
            Viewer::Link(key) => link_opens(&self.installation.link_secret, order_id, key),
        };
        let row = sqlx::query_as::<_, OrderRow>(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"
        ))
        .bind(order_id)
        .fetch_optional(&self.db.pool)
        .await?
        .filter(may_see)
        .ok_or(AppError::NotFound)?;
        let items = self.items_of(&[row.id]).await?;
        let refs = PaymentRefs {
            checkout_session_id: row.checkout_session_id.clone(),
            payment_intent_id: row.payment_intent_id.clone(),
        };
        Ok((view(row, &items)?, refs))
    }

    /// The user's recent orders that went to a payment (a Checkout Session or a PaymentIntent),
    /// newest first. An abandoned or declined attempt (expired, failed) charged nothing and is
    /// not an order to the buyer (issue 22): it is left out; its page still opens.
    pub async fn orders_of(&self, user_id: UserId) -> AppResult<Vec<OrderView>> {
        let rows = sqlx::query_as::<_, OrderRow>(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = $1 \
             AND (checkout_session_id IS NOT NULL OR payment_intent_id IS NOT NULL) \
             AND status NOT IN ('expired', 'failed') ORDER BY id DESC LIMIT $2"
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
        total: money(row.amount_total.unwrap_or(row.total)),
        charges: row.amount_subtotal.map(|subtotal| OrderCharges {
            subtotal: money(subtotal),
            discount: money(row.amount_discount),
            shipping: money(row.amount_shipping),
            tax: money(row.amount_tax),
            promotion_code: row.promotion_code.clone(),
        }),
        shipment: shipment_of(&row),
        refunded: money(row.amount_refunded),
        created_at: row.created_at,
        paid_at: row.paid_at,
        guest: row.user_id.is_none(),
        receipt_url: row.receipt_url,
    })
}

fn shipment_of(row: &OrderRow) -> Option<ShipmentView> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let address = ShippingAddress {
        name: row.ship_name.clone()?,
        line1: text(&row.ship_line1),
        line2: row.ship_line2.clone(),
        city: text(&row.ship_city),
        state: row.ship_state.clone(),
        postal_code: text(&row.ship_postal_code),
        country: text(&row.ship_country),
    };
    Some(ShipmentView {
        rate: row.shipping_rate.clone(),
        delivery: row.shipping_delivery.clone(),
        address: address.lines(),
    })
}

/// The order as its owner sees it, read in `tx` (the receipt is queued in the step that marks the
/// order paid).
pub(super) async fn order_view_in(
    tx: &mut sqlx::Transaction<'_, Any>,
    order_id: OrderId,
) -> AppResult<OrderView> {
    let row =
        sqlx::query_as::<_, OrderRow>(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"))
            .bind(order_id)
            .fetch_one(&mut **tx)
            .await?;
    let items = sqlx::query_as::<_, ItemRow>(
        "SELECT order_id, name, unit_amount, quantity FROM order_items WHERE order_id = $1 \
         ORDER BY name",
    )
    .bind(order_id)
    .fetch_all(&mut **tx)
    .await?;
    view(row, &items)
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
