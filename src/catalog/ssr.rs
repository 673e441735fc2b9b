//! The catalog on the server: Stripe → database (sync), database → in-memory snapshot (reload).
//! Requests only read the snapshot; no pricing page render touches the database.

use super::{Catalog, Interval, Money, Plan, PlanPrice};
use crate::auth::Role;
use crate::billing::ssr::stripe::{PriceRecord, ProductRecord, StripeGateway};
use crate::db::{Database, now_unix};
use crate::error::AppResult;
use sqlx::{Any, Transaction};
use std::sync::{Arc, RwLock};
use std::time::Duration;

#[derive(Default)]
pub struct CatalogStore {
    snapshot: RwLock<Arc<Catalog>>,
    /// What the database looked like at the last reload, to notice changes made by other instances.
    fingerprint: RwLock<(i64, i64)>,
}

#[derive(sqlx::FromRow)]
struct PlanRow {
    product_id: String,
    name: String,
    description: Option<String>,
    role: String,
    features: String,
    price_id: String,
    currency: String,
    unit_amount: i64,
    recurring_interval: String,
    trial_period_days: Option<i64>,
}

impl CatalogStore {
    pub fn current(&self) -> Arc<Catalog> {
        self.snapshot.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// Rebuilds the snapshot from the database.
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
        if let Ok(mut snapshot) = self.snapshot.write() {
            *snapshot = Arc::new(catalog);
        }
        if let Ok(mut stored) = self.fingerprint.write() {
            *stored = fingerprint;
        }
        Ok(())
    }

    /// Reloads when another instance changed the catalog (cheap: one aggregate query).
    pub async fn reload_if_changed(&self, db: &Database) -> AppResult<bool> {
        let now = fingerprint(db).await?;
        let known = self.fingerprint.read().map(|f| *f).unwrap_or_default();
        if now != known {
            self.reload(db).await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Copies every product and price from Stripe into the database, then reloads.
    pub async fn sync_from_stripe(
        &self,
        db: &Database,
        gateway: &StripeGateway,
    ) -> AppResult<(usize, usize)> {
        let (products, prices) = gateway.list_catalog().await?;
        let mut tx = db.pool.begin().await?;
        for product in &products {
            upsert_product(&mut tx, product).await?;
        }
        for price in &prices {
            upsert_price(&mut tx, price).await?;
        }
        tx.commit().await?;
        self.reload(db).await?;
        Ok((products.len(), prices.len()))
    }

    pub fn spawn_change_watcher(self: Arc<Self>, db: Database) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(15));
            loop {
                tick.tick().await;
                if let Err(error) = self.reload_if_changed(&db).await {
                    tracing::warn!(%error, "catalog reload failed");
                }
            }
        });
    }
}

async fn fingerprint(db: &Database) -> AppResult<(i64, i64)> {
    Ok(sqlx::query_as::<_, (i64, i64)>(
        "SELECT (SELECT COUNT(*) FROM products) + (SELECT COUNT(*) FROM prices), \
                COALESCE((SELECT MAX(updated_at) FROM products), 0) + COALESCE((SELECT MAX(updated_at) FROM prices), 0)",
    )
    .fetch_one(&db.pool)
    .await?)
}

fn build_catalog(rows: Vec<PlanRow>) -> Catalog {
    let mut plans: Vec<Plan> = Vec::new();
    for row in rows {
        let Ok(role) = Role::try_from(row.role.clone()) else {
            continue;
        };
        let Some(interval) = Interval::parse(&row.recurring_interval) else {
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

pub async fn upsert_product(
    tx: &mut Transaction<'_, Any>,
    product: &ProductRecord,
) -> AppResult<()> {
    let features = serde_json::to_string(&product.features).unwrap_or_else(|_| "[]".into());
    sqlx::query(
        "INSERT INTO products (id, name, description, active, role, features, sort_order, livemode, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, \
           active = excluded.active, role = excluded.role, features = excluded.features, \
           sort_order = excluded.sort_order, livemode = excluded.livemode, updated_at = excluded.updated_at",
    )
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

pub async fn upsert_price(tx: &mut Transaction<'_, Any>, price: &PriceRecord) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO prices (id, product_id, active, currency, unit_amount, recurring_interval, interval_count, \
                             trial_period_days, lookup_key, livemode, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (id) DO UPDATE SET product_id = excluded.product_id, active = excluded.active, \
           currency = excluded.currency, unit_amount = excluded.unit_amount, \
           recurring_interval = excluded.recurring_interval, interval_count = excluded.interval_count, \
           trial_period_days = excluded.trial_period_days, lookup_key = excluded.lookup_key, \
           livemode = excluded.livemode, updated_at = excluded.updated_at",
    )
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

/// The role each known product grants, for `sync_customer`.
pub async fn product_roles(
    tx: &mut Transaction<'_, Any>,
) -> AppResult<Vec<(String, Option<String>)>> {
    Ok(
        sqlx::query_as::<_, (String, Option<String>)>("SELECT id, role FROM products")
            .fetch_all(&mut **tx)
            .await?,
    )
}
