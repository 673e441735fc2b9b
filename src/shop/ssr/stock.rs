//! Stock of goods: what is available, and the four moves an order makes. Stock is kept per price
//! (one per option of a good, issue 22). Every move is a conditional UPDATE on the price row, so
//! concurrent orders (on any number of instances) can never take more than there is: of two buyers
//! racing for the last unit of an option, one UPDATE matches and the other does not.

use crate::db::Database;
use crate::domain::PriceId;
use crate::error::AppResult;
use sqlx::{Any, Transaction};
use std::collections::HashMap;

/// Units of a good's option that can still be bought (on hand, less what pending orders hold).
pub async fn available(db: &Database, price_id: &PriceId) -> AppResult<i64> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT stock_on_hand - stock_reserved FROM prices WHERE id = $1",
    )
    .bind(price_id)
    .fetch_optional(&db.pool)
    .await?
    .unwrap_or(0)
    .max(0))
}

/// Units available of every one-time price, for the shop's pages.
pub async fn available_all(db: &Database) -> AppResult<HashMap<PriceId, i64>> {
    let rows = sqlx::query_as::<_, (PriceId, i64)>(
        "SELECT id, stock_on_hand - stock_reserved FROM prices WHERE recurring_interval IS NULL",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|(id, n)| (id, n.max(0))).collect())
}

/// Holds `quantity` units for a new order; false (and nothing held) when fewer are available.
pub async fn reserve(
    tx: &mut Transaction<'_, Any>,
    price_id: &PriceId,
    quantity: i64,
) -> AppResult<bool> {
    let held = sqlx::query(
        "UPDATE prices SET stock_reserved = stock_reserved + $2 \
         WHERE id = $1 AND recurring_interval IS NULL AND stock_on_hand - stock_reserved >= $2",
    )
    .bind(price_id)
    .bind(quantity)
    .execute(&mut **tx)
    .await?;
    Ok(held.rows_affected() == 1)
}

/// What a paid, ended or refunded order does to the units it held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockMove {
    /// Paid: the held units are sold (leave both counts).
    Sell,
    /// Expired or failed: the held units are free again.
    Release,
    /// Fully refunded: the sold units are back on hand.
    Return,
}

pub async fn apply_move(
    tx: &mut Transaction<'_, Any>,
    price_id: &PriceId,
    quantity: i64,
    stock_move: StockMove,
) -> AppResult<()> {
    // The reserved count never goes below zero, whatever an operator did to the rows meanwhile.
    let sql = match stock_move {
        StockMove::Sell => {
            "UPDATE prices SET stock_on_hand = stock_on_hand - $2, \
             stock_reserved = CASE WHEN stock_reserved >= $2 THEN stock_reserved - $2 ELSE 0 END WHERE id = $1"
        }
        StockMove::Release => {
            "UPDATE prices SET stock_reserved = CASE WHEN stock_reserved >= $2 THEN stock_reserved - $2 ELSE 0 END \
             WHERE id = $1"
        }
        StockMove::Return => "UPDATE prices SET stock_on_hand = stock_on_hand + $2 WHERE id = $1",
    };
    sqlx::query(sql)
        .bind(price_id)
        .bind(quantity)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
