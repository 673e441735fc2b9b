//! Writes of products and prices: the catalog sync, catalog webhooks and customer syncs go through here.

use crate::catalog::{image_of, slug_of};
use crate::db::{Database, now_unix};
use crate::domain::{PriceId, ProductId, Role};
use crate::error::AppResult;
use crate::stripe_gateway::{PriceRecord, ProductRecord, StripeCatalog};
use sqlx::{Any, Transaction};
use std::collections::HashMap;

/// What a write does to a row that exists: catalog changes (events, `sync-catalog`) overwrite it with
/// Stripe's state; a customer sync only adds what the catalog does not know yet, so it can never put
/// back an older state of a product or price (security review L5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    Overwrite,
    Keep,
}

/// Writes a product. Goods also get their shop fields. Stock lives on the prices (one per option):
/// the metadata's `stock` seeds each of the product's prices that has none yet, once; sales change
/// it after that, never a later sync.
pub async fn upsert_product(
    tx: &mut Transaction<'_, Any>,
    product: &ProductRecord,
    existing: Existing,
) -> AppResult<()> {
    let features = serde_json::to_string(&product.features).expect("a list of strings is JSON");
    let goods = product.goods.as_ref();
    let slug = goods.and_then(|g| slug_of(g.slug.as_deref().unwrap_or(&product.name)));
    let image = goods.and_then(|g| g.image.as_deref()).and_then(image_of);
    let initial_stock = goods.and_then(|g| g.initial_stock).map(|n| n.max(0));
    let sql = match existing {
        Existing::Overwrite => concat!(
            "INSERT INTO products (id, name, description, active, role, features, sort_order, livemode, updated_at, ",
            "kind, slug, image, initial_stock, shippable, option_name) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ",
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, ",
            "active = excluded.active, role = excluded.role, features = excluded.features, ",
            "sort_order = excluded.sort_order, livemode = excluded.livemode, updated_at = excluded.updated_at, ",
            "kind = excluded.kind, slug = excluded.slug, image = excluded.image, ",
            "initial_stock = excluded.initial_stock, shippable = excluded.shippable, option_name = excluded.option_name"
        ),
        Existing::Keep => concat!(
            "INSERT INTO products (id, name, description, active, role, features, sort_order, livemode, updated_at, ",
            "kind, slug, image, initial_stock, shippable, option_name) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (id) DO NOTHING"
        ),
    };
    sqlx::query(sql)
        .bind(&product.id)
        .bind(&product.name)
        .bind(&product.description)
        .bind(product.active as i64)
        .bind(&product.role)
        .bind(features)
        .bind(product.sort_order)
        .bind(product.livemode as i64)
        .bind(now_unix())
        .bind(goods.map(|_| "goods"))
        .bind(slug)
        .bind(image)
        .bind(initial_stock)
        .bind(goods.is_some_and(|g| g.shippable) as i64)
        .bind(goods.and_then(|g| g.option_name.clone()))
        .execute(&mut **tx)
        .await?;
    // Its prices that arrived first (a webhook may bring a price before its product).
    if let Some(stock) = initial_stock {
        sqlx::query(
            "UPDATE prices SET stock_on_hand = $2, stock_seeded = 1 \
             WHERE product_id = $1 AND stock_seeded = 0 AND recurring_interval IS NULL",
        )
        .bind(&product.id)
        .bind(stock)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Writes a price. A one-time price gets its stock once: its own metadata `stock` (an option's),
/// else its product's; never again after that.
pub async fn upsert_price(
    tx: &mut Transaction<'_, Any>,
    price: &PriceRecord,
    existing: Existing,
) -> AppResult<()> {
    let seed = match price.initial_stock {
        Some(own) => Some(own.max(0)),
        None if price.interval.is_none() => {
            sqlx::query_scalar::<_, Option<i64>>("SELECT initial_stock FROM products WHERE id = $1")
                .bind(&price.product_id)
                .fetch_optional(&mut **tx)
                .await?
                .flatten()
        }
        None => None,
    };
    let sql = match existing {
        Existing::Overwrite => concat!(
            "INSERT INTO prices (id, product_id, active, currency, unit_amount, recurring_interval, interval_count, ",
            "trial_period_days, lookup_key, livemode, updated_at, option_label, sort_order, stock_on_hand, stock_seeded) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ",
            "ON CONFLICT (id) DO UPDATE SET product_id = excluded.product_id, active = excluded.active, ",
            "currency = excluded.currency, unit_amount = excluded.unit_amount, ",
            "recurring_interval = excluded.recurring_interval, interval_count = excluded.interval_count, ",
            "trial_period_days = excluded.trial_period_days, lookup_key = excluded.lookup_key, ",
            "livemode = excluded.livemode, updated_at = excluded.updated_at, ",
            "option_label = excluded.option_label, sort_order = excluded.sort_order, ",
            "stock_on_hand = CASE WHEN prices.stock_seeded = 0 THEN excluded.stock_on_hand ELSE prices.stock_on_hand END, ",
            "stock_seeded = CASE WHEN prices.stock_seeded = 0 THEN excluded.stock_seeded ELSE 1 END"
        ),
        Existing::Keep => concat!(
            "INSERT INTO prices (id, product_id, active, currency, unit_amount, recurring_interval, interval_count, ",
            "trial_period_days, lookup_key, livemode, updated_at, option_label, sort_order, stock_on_hand, stock_seeded) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (id) DO NOTHING"
        ),
    };
    sqlx::query(sql)
        .bind(&price.id)
        .bind(&price.product_id)
        .bind(price.active as i64)
        .bind(&price.currency)
        .bind(price.unit_amount)
        .bind(&price.interval)
        .bind(price.interval_count)
        .bind(price.trial_period_days)
        .bind(&price.lookup_key)
        .bind(price.livemode as i64)
        .bind(now_unix())
        .bind(&price.option)
        .bind(price.sort_order)
        .bind(seed.unwrap_or(0))
        .bind(seed.is_some() as i64)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// After a full listing: what we still sell but Stripe no longer lists is taken off sale.
pub(super) async fn deactivate_unlisted(
    tx: &mut Transaction<'_, Any>,
    listing: &StripeCatalog,
) -> AppResult<()> {
    let products = sqlx::query_scalar::<_, ProductId>("SELECT id FROM products WHERE active = 1")
        .fetch_all(&mut **tx)
        .await?;
    for id in products {
        if !listing.products.iter().any(|p| p.id == id) {
            mark_product_inactive(tx, &id).await?;
        }
    }
    let prices = sqlx::query_scalar::<_, PriceId>("SELECT id FROM prices WHERE active = 1")
        .fetch_all(&mut **tx)
        .await?;
    for id in prices {
        if !listing.prices.iter().any(|p| p.id == id) {
            mark_price_inactive(tx, &id).await?;
        }
    }
    Ok(())
}

/// The role each known product grants (products without a valid `role` grant none), for
/// `sync_customer`.
pub async fn product_roles(tx: &mut Transaction<'_, Any>) -> AppResult<HashMap<ProductId, Role>> {
    let rows = sqlx::query_as::<_, (ProductId, Option<String>)>("SELECT id, role FROM products")
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, role)| Some((id, role?.parse().ok()?)))
        .collect())
}

pub(super) async fn product_exists(db: &Database, id: &ProductId) -> AppResult<bool> {
    let count = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM products WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await?;
    Ok(count > 0)
}

/// A product Stripe no longer has is kept, so old subscriptions still name it, but is not sold.
pub(super) async fn mark_product_inactive(
    tx: &mut Transaction<'_, Any>,
    id: &ProductId,
) -> AppResult<()> {
    sqlx::query("UPDATE products SET active = 0, updated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now_unix())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A price Stripe no longer has: kept for old subscriptions, not sold.
pub(super) async fn mark_price_inactive(
    tx: &mut Transaction<'_, Any>,
    id: &PriceId,
) -> AppResult<()> {
    sqlx::query("UPDATE prices SET active = 0, updated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now_unix())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
