//! Catalog changes: a `product.*` or `price.*` webhook re-reads the object from Stripe and writes it,
//! and `sync-catalog` copies everything. Both write through one generation-claim loop
//! (`write_latest_read`), so the last write on any instance is always from the latest read (L5).

use super::CatalogStore;
use super::writes::{
    Existing, deactivate_unlisted, mark_price_inactive, mark_product_inactive, product_exists,
    upsert_price, upsert_product,
};
use crate::db::Database;
use crate::domain::{PriceId, ProductId};
use crate::error::{AppError, AppResult};
use crate::stripe_gateway::{
    PriceRecord, ProductRecord, StripeCatalog, StripeGateway, VerifiedEvent,
};
use crate::stripe_sync::{SyncOutcome, ledger};
use sqlx::{Any, Transaction};
use std::future::Future;
use std::time::Duration;

/// A catalog event's write that keeps losing to newer writes gives up after this many reads (503,
/// so Stripe delivers it again).
const EVENT_WRITE_ATTEMPTS: u32 = 3;
/// A full copy loses to every catalog event applied while it reads Stripe; a burst of them (a new
/// account's seed catalog is a dozen events) ends soon, so it tries longer, with a growing pause.
const FULL_SYNC_ATTEMPTS: u32 = 10;
const FULL_SYNC_PAUSE: Duration = Duration::from_millis(100);

/// The catalog object an event is about.
#[derive(Debug, Clone, Copy)]
pub enum CatalogObject<'a> {
    Product(&'a ProductId),
    Price(&'a PriceId),
}

/// What `sync_from_stripe` copied.
#[derive(Debug, Clone, Copy)]
pub struct CatalogSyncReport {
    pub products: usize,
    pub prices: usize,
}

/// Stripe's current version of a changed catalog object.
#[derive(Default)]
struct CatalogChange {
    product: Option<ProductRecord>,
    price: Option<PriceRecord>,
    /// Stripe no longer has this product (deleted).
    gone_product: Option<ProductId>,
    /// Stripe no longer has this price (deleted).
    gone_price: Option<PriceId>,
}

/// A read that won the claim: the transaction holds the claimed generation until it ends.
enum Claimed<R> {
    Won(R, Transaction<'static, Any>),
    /// The event was applied before (by another delivery).
    Duplicate,
}

impl CatalogStore {
    /// Re-reads the product or price from Stripe and writes it, recording `event` in the same
    /// transaction. A price can arrive before its product: prices have no foreign key, and an
    /// unknown product is fetched along with the price. A product or price Stripe no longer has
    /// (deleted) is kept but marked inactive, so old subscriptions still name it.
    #[tracing::instrument(skip_all)]
    pub async fn apply_change(
        &self,
        db: &Database,
        gateway: &StripeGateway,
        event: &VerifiedEvent,
        object: CatalogObject<'_>,
    ) -> AppResult<SyncOutcome<()>> {
        if ledger::already_applied(db, &event.id).await? {
            return Ok(SyncOutcome::Duplicate);
        }
        // One catalog change at a time in this process; other instances take turns on the claim.
        let _one_at_a_time = self.changes.lock().await;
        let read = || read_change(db, gateway, object);
        let (change, mut tx) =
            match write_latest_read(db, Some(event), EVENT_WRITE_ATTEMPTS, Duration::ZERO, read)
                .await?
            {
                Claimed::Won(change, tx) => (change, tx),
                Claimed::Duplicate => return Ok(SyncOutcome::Duplicate),
            };
        if let Some(product) = &change.product {
            upsert_product(&mut tx, product, Existing::Overwrite).await?;
        }
        if let Some(price) = &change.price {
            upsert_price(&mut tx, price, Existing::Overwrite).await?;
        }
        if let Some(id) = &change.gone_product {
            mark_product_inactive(&mut tx, id).await?;
        }
        if let Some(id) = &change.gone_price {
            mark_price_inactive(&mut tx, id).await?;
        }
        tx.commit().await?;
        self.reload(db).await?;
        Ok(SyncOutcome::Applied(()))
    }

    /// Copies every product and price from Stripe into the database (taking off sale what Stripe no
    /// longer lists), then reloads.
    pub async fn sync_from_stripe(
        &self,
        db: &Database,
        gateway: &StripeGateway,
    ) -> AppResult<CatalogSyncReport> {
        let read = || async { Ok::<StripeCatalog, AppError>(gateway.list_catalog().await?) };
        let (stripe, mut tx) =
            match write_latest_read(db, None, FULL_SYNC_ATTEMPTS, FULL_SYNC_PAUSE, read).await? {
                Claimed::Won(stripe, tx) => (stripe, tx),
                Claimed::Duplicate => {
                    return Err(AppError::Internal(
                        "a full sync has no event to repeat".into(),
                    ));
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
}

/// The generation-claim loop every catalog writer uses: read Stripe, then claim the next catalog
/// generation in a transaction that also records `event`; if another writer claimed one since the
/// read began, read again (pausing `pause` times the attempt), at most `attempts` times, then 503.
async fn write_latest_read<R, F, Fut>(
    db: &Database,
    event: Option<&VerifiedEvent>,
    attempts: u32,
    pause: Duration,
    mut read: F,
) -> AppResult<Claimed<R>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = AppResult<R>>,
{
    let mut generation = super::catalog_generation(db).await?;
    for attempt in 1..=attempts {
        let stripe = read().await?;
        let mut tx = db.pool.begin().await?;
        if let Some(event) = event
            && !ledger::record(&mut tx, event).await?
        {
            tx.rollback().await?;
            return Ok(Claimed::Duplicate);
        }
        match super::claim_catalog_generation(&mut tx, generation).await? {
            None => return Ok(Claimed::Won(stripe, tx)),
            Some(current) => {
                tx.rollback().await?;
                generation = current;
                tokio::time::sleep(pause * attempt).await;
            }
        }
    }
    Err(AppError::Busy {
        retry_after_secs: 5,
    })
}

async fn read_change(
    db: &Database,
    gateway: &StripeGateway,
    object: CatalogObject<'_>,
) -> AppResult<CatalogChange> {
    match object {
        CatalogObject::Product(id) => match gateway.product(id).await {
            Ok(product) => Ok(CatalogChange {
                product: Some(product),
                ..Default::default()
            }),
            Err(e) if e.is_not_found() => Ok(CatalogChange {
                gone_product: Some(id.clone()),
                ..Default::default()
            }),
            Err(e) => Err(e.into()),
        },
        CatalogObject::Price(id) => {
            let price = match gateway.price(id).await {
                Ok(price) => price,
                Err(e) if e.is_not_found() => {
                    return Ok(CatalogChange {
                        gone_price: Some(id.clone()),
                        ..Default::default()
                    });
                }
                Err(e) => return Err(e.into()),
            };
            let product = if product_exists(db, &price.product_id).await? {
                None
            } else {
                Some(gateway.product(&price.product_id).await?)
            };
            Ok(CatalogChange {
                product,
                price: Some(price),
                ..Default::default()
            })
        }
    }
}
