//! The catalog on the server: Stripe → database (sync), database → in-memory snapshot (reload).
//! Requests only read the snapshot; no pricing page render touches the database.

use super::{Catalog, Plan, PlanPrice};
use crate::db::{Database, now_unix};
use crate::domain::{Interval, Money, PriceId, ProductId, Role};
use crate::error::{AppError, AppResult};
use crate::stripe_gateway::{PriceRecord, ProductRecord, StripeCatalog, StripeGateway};
use sqlx::{Any, Transaction};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

/// How often an instance checks whether another one changed the catalog (one cheap query).
const CHANGE_CHECK_INTERVAL: Duration = Duration::from_secs(5);
/// A catalog write that keeps losing to newer writes gives up after this many reads (retried later).
pub const MAX_CATALOG_WRITE_ATTEMPTS: usize = 3;

/// The catalog's write generation (security review L5): read before reading Stripe.
pub async fn catalog_generation(db: &Database) -> AppResult<i64> {
    sqlx::query_scalar::<_, i64>("SELECT catalog_generation FROM installation WHERE singleton = 1")
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| AppError::Internal("no installation row".into()))
}

/// Claims the next generation in `tx` if it is still `generation`; otherwise returns the current one,
/// and the caller reads Stripe again: someone wrote a newer read meanwhile. The claimed row stays
/// locked until `tx` ends, so catalog writers on all instances take turns.
pub async fn claim_catalog_generation(
    tx: &mut Transaction<'_, Any>,
    generation: i64,
) -> AppResult<Option<i64>> {
    let claimed = sqlx::query(
        "UPDATE installation SET catalog_generation = catalog_generation + 1 \
         WHERE singleton = 1 AND catalog_generation = $1",
    )
    .bind(generation)
    .execute(&mut **tx)
    .await?;
    if claimed.rows_affected() == 1 {
        return Ok(None);
    }
    let current = sqlx::query_scalar::<_, i64>(
        "SELECT catalog_generation FROM installation WHERE singleton = 1",
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(Some(current))
}

/// The snapshot of the plans on sale that every page reads. A poisoned lock still holds a whole
/// `Arc` (writers only swap it), so it is recovered rather than turned into an error.
#[derive(Default)]
pub struct CatalogStore {
    snapshot: RwLock<Arc<Catalog>>,
    /// What the database looked like at the last reload, to notice changes made by other instances.
    fingerprint: RwLock<(i64, i64)>,
}

/// What `sync_from_stripe` copied.
#[derive(Debug, Clone, Copy)]
pub struct CatalogSyncReport {
    pub products: usize,
    pub prices: usize,
}

#[derive(sqlx::FromRow)]
struct PlanRow {
    product_id: ProductId,
    name: String,
    description: Option<String>,
    role: String,
    features: String,
    price_id: PriceId,
    currency: String,
    unit_amount: i64,
    recurring_interval: String,
    trial_period_days: Option<i64>,
}

impl CatalogStore {
    pub fn current(&self) -> Arc<Catalog> {
        self.snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub async fn reload(&self, db: &Database) -> AppResult<()> {
        let rows = sqlx::query_as::<_, PlanRow>(
            "SELECT p.id AS product_id, p.name, p.description, p.role, p.features, pr.id AS price_id, \
                    pr.currency, pr.unit_amount, pr.recurring_interval, pr.trial_period_days \
             FROM products p JOIN prices pr ON pr.product_id = p.id \
             WHERE p.active = 1 AND pr.active = 1 AND p.role IS NOT NULL AND pr.unit_amount IS NOT NULL \
               AND pr.recurring_interval IN ('month', 'year') AND pr.interval_count = 1 \
             ORDER BY p.sort_order, p.id, pr.unit_amount",
        )
        .fetch_all(&db.pool)
        .await?;
        let fingerprint = fingerprint(db).await?;
        let catalog = build_catalog(rows);
        *self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(catalog);
        *self
            .fingerprint
            .write()
            .unwrap_or_else(PoisonError::into_inner) = fingerprint;
        Ok(())
    }

    /// Reloads when another instance changed the catalog (cheap: one aggregate query).
    pub async fn reload_if_changed(&self, db: &Database) -> AppResult<bool> {
        let now = fingerprint(db).await?;
        let known = *self
            .fingerprint
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        if now != known {
            self.reload(db).await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Copies every product and price from Stripe into the database (taking off sale what Stripe no
    /// longer lists), then reloads.
    pub async fn sync_from_stripe(
        &self,
        db: &Database,
        gateway: &StripeGateway,
    ) -> AppResult<CatalogSyncReport> {
        let mut generation = catalog_generation(db).await?;
        let mut attempts = 0;
        let (stripe, mut tx) = loop {
            attempts += 1;
            let stripe = gateway.list_catalog().await?;
            let mut tx = db.pool.begin().await?;
            match claim_catalog_generation(&mut tx, generation).await? {
                None => break (stripe, tx),
                Some(_) if attempts >= MAX_CATALOG_WRITE_ATTEMPTS => {
                    return Err(AppError::Busy {
                        retry_after_secs: 5,
                    });
                }
                Some(current) => generation = current,
            }
        };
        for product in &stripe.products {
            upsert_product(&mut tx, product, Existing::Overwrite).await?;
        }
        for price in &stripe.prices {
            upsert_price(&mut tx, price, Existing::Overwrite).await?;
        }
        deactivate_unlisted(&mut tx, &stripe).await?;
        tx.commit().await?;
        self.reload(db).await?;
        Ok(CatalogSyncReport {
            products: stripe.products.len(),
            prices: stripe.prices.len(),
        })
    }

    pub fn spawn_change_watcher(self: Arc<Self>, db: Database) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CHANGE_CHECK_INTERVAL);
            loop {
                tick.tick().await;
                if let Err(error) = self.reload_if_changed(&db).await {
                    tracing::warn!(%error, "catalog reload failed");
                }
            }
        });
    }
}

/// What changes whenever the catalog does: every catalog writer claims a new `catalog_generation`
/// (L5) in its transaction; the count also covers products a customer sync added (they claim none).
async fn fingerprint(db: &Database) -> AppResult<(i64, i64)> {
    Ok(sqlx::query_as::<_, (i64, i64)>(
        "SELECT (SELECT COUNT(*) FROM products) + (SELECT COUNT(*) FROM prices), \
                COALESCE((SELECT catalog_generation FROM installation WHERE singleton = 1), 0)",
    )
    .fetch_one(&db.pool)
    .await?)
}

fn build_catalog(rows: Vec<PlanRow>) -> Catalog {
    let mut plans: Vec<Plan> = Vec::new();
    for row in rows {
        let (Ok(role), Ok(interval)) = (row.role.parse::<Role>(), row.recurring_interval.parse())
        else {
            continue;
        };
        let price = PlanPrice {
            price_id: row.price_id,
            money: Money::new(row.unit_amount, row.currency),
            interval,
            trial_days: row.trial_period_days,
        };
        let plan = match plans.iter_mut().find(|p| p.product_id == row.product_id) {
            Some(plan) => plan,
            None => {
                plans.push(Plan {
                    product_id: row.product_id,
                    name: row.name,
                    description: row.description,
                    role,
                    features: serde_json::from_str(&row.features).unwrap_or_default(),
                    monthly: None,
                    yearly: None,
                });
                let last = plans.len() - 1;
                &mut plans[last]
            }
        };
        // Several active prices per interval: the cheapest wins (rows come ordered by amount).
        let slot = match interval {
            Interval::Month => &mut plan.monthly,
            Interval::Year => &mut plan.yearly,
        };
        slot.get_or_insert(price);
    }
    plans.sort_by_key(|p| p.role);
    Catalog { plans }
}

/// What a write does to a row that exists: catalog changes (events, `sync-catalog`) overwrite it with
/// Stripe's state; a customer sync only adds what the catalog does not know yet, so it can never put
/// back an older state of a product or price (security review L5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    Overwrite,
    Keep,
}

pub async fn upsert_product(
    tx: &mut Transaction<'_, Any>,
    product: &ProductRecord,
    existing: Existing,
) -> AppResult<()> {
    let features = serde_json::to_string(&product.features).expect("a list of strings is JSON");
    let sql = match existing {
        Existing::Overwrite => concat!(
            "INSERT INTO products (id, name, description, active, role, features, sort_order, livemode, updated_at) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ",
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, ",
            "active = excluded.active, role = excluded.role, features = excluded.features, ",
            "sort_order = excluded.sort_order, livemode = excluded.livemode, updated_at = excluded.updated_at"
        ),
        Existing::Keep => concat!(
            "INSERT INTO products (id, name, description, active, role, features, sort_order, livemode, updated_at) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING"
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
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn upsert_price(
    tx: &mut Transaction<'_, Any>,
    price: &PriceRecord,
    existing: Existing,
) -> AppResult<()> {
    let sql = match existing {
        Existing::Overwrite => concat!(
            "INSERT INTO prices (id, product_id, active, currency, unit_amount, recurring_interval, interval_count, ",
            "trial_period_days, lookup_key, livemode, updated_at) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ",
            "ON CONFLICT (id) DO UPDATE SET product_id = excluded.product_id, active = excluded.active, ",
            "currency = excluded.currency, unit_amount = excluded.unit_amount, ",
            "recurring_interval = excluded.recurring_interval, interval_count = excluded.interval_count, ",
            "trial_period_days = excluded.trial_period_days, lookup_key = excluded.lookup_key, ",
            "livemode = excluded.livemode, updated_at = excluded.updated_at"
        ),
        Existing::Keep => concat!(
            "INSERT INTO prices (id, product_id, active, currency, unit_amount, recurring_interval, interval_count, ",
            "trial_period_days, lookup_key, livemode, updated_at) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING"
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
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// After a full listing: what we still sell but Stripe no longer lists is taken off sale.
async fn deactivate_unlisted(
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

pub async fn product_exists(db: &Database, id: &ProductId) -> AppResult<bool> {
    let count = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM products WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await?;
    Ok(count > 0)
}

/// A product Stripe no longer has is kept, so old subscriptions still name it, but is not sold.
pub async fn mark_product_inactive(tx: &mut Transaction<'_, Any>, id: &ProductId) -> AppResult<()> {
    sqlx::query("UPDATE products SET active = 0, updated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now_unix())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A price Stripe no longer has: kept for old subscriptions, not sold.
pub async fn mark_price_inactive(tx: &mut Transaction<'_, Any>, id: &PriceId) -> AppResult<()> {
    sqlx::query("UPDATE prices SET active = 0, updated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now_unix())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
