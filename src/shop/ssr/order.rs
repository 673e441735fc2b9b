//! The order: creating one with its stock reservation, and moving its payment status one legal step
//! at a time (`OrderStatus::path_to`) with the stock move each step makes. Every step is a
//! conditional UPDATE from the status before it, so a duplicate, a late event or two instances
//! apply each step, and its stock move, exactly once.

use super::Shop;
use super::cart::{Cart, only_left};
use super::guest::Buyer;
use super::payment::{OrderLine, total_of};
use super::stock::{self, StockMove, apply_move, available};
use crate::db::now_unix;
use crate::domain::{OrderId, OrderStatus, PaymentFlow, PriceId};
use crate::error::AppResult;
use sqlx::{Any, Transaction};

impl Shop {
    /// The order, its items and its stock reservation, in one transaction: all or nothing. None when
    /// the buyer has a pending order already (`orders_one_pending_per_buyer`, or for a guest
    /// `orders_one_pending_per_guest_cart`: another request of the buyer made one since its open
    /// orders were ended).
    pub(super) async fn create_order(
        &self,
        buyer: Buyer<'_>,
        cart: &Cart,
        order_key: &str,
        flow: PaymentFlow,
        currency: &str,
        lines: &[OrderLine<'_>],
    ) -> AppResult<Option<OrderId>> {
        let total = total_of(lines);
        let now = now_unix();
        let mut tx = self.db.pool.begin().await?;
        let inserted = sqlx::query_scalar::<_, OrderId>(
            "INSERT INTO orders (user_id, status, currency, total, cart_key, cart_id, payment_flow, \
             created_at, updated_at) VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(buyer.user_id())
        .bind(currency)
        .bind(total)
        .bind(order_key)
        .bind(cart.id())
        .bind(flow.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let order_id = match inserted {
            Ok(order_id) => order_id,
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        for line in lines {
            sqlx::query(
                "INSERT INTO order_items (order_id, price_id, product_id, name, unit_amount, quantity) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(order_id)
            .bind(&line.good.price_id)
            .bind(&line.good.product_id)
            .bind(line.good.line_name())
            .bind(line.good.money.amount)
            .bind(line.quantity)
            .execute(&mut *tx)
            .await?;
            if !stock::reserve(&mut tx, &line.good.price_id, line.quantity).await? {
                tx.rollback().await?;
                let left = available(&self.db, &line.good.price_id).await?;
                tracing::info!(price = %line.good.price_id, left, "checkout refused: not enough stock");
                return Err(only_left(left));
            }
        }
        tx.commit().await?;
        self.pages.forget_stock();
        tracing::info!(%order_id, total, "order created, stock reserved");
        Ok(Some(order_id))
    }

    /// An order whose Checkout Session or PaymentIntent could not be created: failed, its stock
    /// given back.
    pub(super) async fn abandon(&self, order_id: OrderId) -> AppResult<()> {
        let mut tx = self.db.pool.begin().await?;
        walk(&mut tx, order_id, OrderStatus::Pending, OrderStatus::Failed).await?;
        tx.commit().await?;
        self.pages.forget_stock();
        tracing::warn!(%order_id, "order abandoned: no way to pay it; stock released");
        Ok(())
    }
}

/// A step the order took, for its caller's side effects (the receipt).
pub(super) type Step = (OrderStatus, OrderStatus);

/// Walks the order from `current` to `target` along `path_to`, each step with its stock move;
/// stops at the first step another writer took first. Returns the steps this call took.
pub(super) async fn walk(
    tx: &mut Transaction<'_, Any>,
    order_id: OrderId,
    current: OrderStatus,
    target: OrderStatus,
) -> AppResult<Vec<Step>> {
    let mut taken = Vec::new();
    for (from, to) in current.path_to(target) {
        if !move_status(tx, order_id, from, to).await? {
            break;
        }
        if let Some(stock_move) = stock_move_of(from, to) {
            move_items(tx, order_id, stock_move).await?;
        }
        tracing::info!(%order_id, from = %from, to = %to, "order moved");
        taken.push((from, to));
    }
    Ok(taken)
}

/// What a step does to the stock: paid sells what was reserved, an end without payment releases it,
/// a full refund returns it to the shelf.
fn stock_move_of(from: OrderStatus, to: OrderStatus) -> Option<StockMove> {
    match (from, to) {
        (OrderStatus::Pending, OrderStatus::Paid) => Some(StockMove::Sell),
        (OrderStatus::Pending, _) => Some(StockMove::Release),
        (_, OrderStatus::Refunded) => Some(StockMove::Return),
        _ => None,
    }
}

/// One step of an order's status, only from `from`; false when the order was not there (another
/// sync got there first, or it is elsewhere).
async fn move_status(
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
async fn move_items(
    tx: &mut Transaction<'_, Any>,
    order_id: OrderId,
    stock_move: StockMove,
) -> AppResult<()> {
    let items = sqlx::query_as::<_, (PriceId, i64)>(
        "SELECT price_id, quantity FROM order_items WHERE order_id = $1",
    )
    .bind(order_id)
    .fetch_all(&mut **tx)
    .await?;
    for (price_id, quantity) in items {
        apply_move(tx, &price_id, quantity, stock_move).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_moves_the_stock_once_in_the_right_direction() {
        use OrderStatus::*;
        assert_eq!(stock_move_of(Pending, Paid), Some(StockMove::Sell));
        assert_eq!(stock_move_of(Pending, Expired), Some(StockMove::Release));
        assert_eq!(stock_move_of(Pending, Failed), Some(StockMove::Release));
        assert_eq!(stock_move_of(Paid, PartiallyRefunded), None);
        assert_eq!(
            stock_move_of(PartiallyRefunded, Refunded),
            Some(StockMove::Return)
        );
    }
}
