//! The catalog on the server: Stripe → database (sync), database → in-memory snapshot (reload).
//! Requests only read the snapshot; no pricing page render touches the database.

use super::{Catalog, Plan, PlanPrice};
use crate::db::Database;
use crate::domain::{Interval, Money, PriceId, ProductId, Role};
use crate::error::{AppError, AppResult};
use sqlx::{Any, Transaction};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

mod changes;
mod goods;
mod writes;

pub use changes::{CatalogObject, CatalogSyncReport};
pub use writes::{Existing, product_roles, upsert_price, upsert_product};

/// How often an instance checks whether another one changed the catalog (one cheap query).
const CHANGE_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// The catalog's write generation (security review L5): read before reading Stripe.
async fn catalog_generation(db: &Database) -> AppResult<i64> {
    sqlx::query_scalar::<_, i64>("SELECT catalog_generation FROM installation WHERE singleton = 1")
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| AppError::Internal("no installation row".into()))
}

/// Claims the next generation in `tx` if it is still `generation`; otherwise returns the current one,
/// and the caller reads Stripe again: someone wrote a newer read meanwhile. The claimed row stays
/// locked until `tx` ends, so catalog writers on all instances take turns.
async fn claim_catalog_generation(
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
    /// Serialises catalog changes within this process (`apply_change`).
    changes: tokio::sync::Mutex<()>,
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
        let goods = goods::load_goods(db).await?;
        let fingerprint = fingerprint(db).await?;
        let catalog = Catalog {
            goods,
            ..build_catalog(rows)
        };
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
    Catalog {
        plans,
        goods: Vec::new(),
    }
}
