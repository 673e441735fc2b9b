//! `sync_customer`: reads a customer's billing state from Stripe and writes it, with the user's role.
//! Writing Stripe's latest state (rather than applying event payloads) makes it idempotent and
//! immune to event order.

use super::Billing;
use super::events::{event_recorded, record_event};
use super::writes::{unbind_customer, write_billing};
use crate::db::{Database, now_unix};
use crate::domain::{CustomerId, ProductId, Role, UserId};
use crate::error::{AppError, AppResult};
use crate::stripe_gateway::{CustomerBilling, ProductRecord, VerifiedEvent};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    Applied {
        user_id: UserId,
        role: Role,
    },
    /// The event was applied before (by this or another instance).
    Duplicate,
    /// No user of ours has this customer; nothing to write but the event record.
    UnknownCustomer,
}

impl fmt::Display for SyncOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncOutcome::Applied { user_id, role } => {
                write!(f, "synced user {user_id}, role: {role}")
            }
            SyncOutcome::Duplicate => f.write_str("duplicate"),
            SyncOutcome::UnknownCustomer => f.write_str("unknown customer"),
        }
    }
}

/// One read of Stripe for a customer: billing state plus the products its prices belong to that the
/// catalog does not know yet (a price can be newer than our last catalog sync).
enum StripeState {
    Billing {
        billing: CustomerBilling,
        new_products: Vec<ProductRecord>,
    },
    /// Stripe no longer has the customer (deleted in the dashboard).
    CustomerDeleted,
}

impl Billing {
    /// Reads the customer's subscriptions and invoices from Stripe and writes them, and the access
    /// they grant, in one short transaction. With `event`, the event is recorded in the same
    /// transaction, or, if it was recorded already, nothing is written.
    ///
    /// No database connection, transaction or lock is held while Stripe answers (security review
    /// M3). Ordering comes from `users.billing_generation`: the write happens only if nobody wrote
    /// since this sync began reading Stripe, else it reads again; so the last write is always from
    /// the latest read, on any number of instances and next to `storefront resync` (L4).
    #[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
    pub async fn sync_customer(
        &self,
        customer_id: &CustomerId,
        event: Option<&VerifiedEvent>,
    ) -> AppResult<SyncOutcome> {
        let _guard = self.customer_locks.lock(customer_id.as_str()).await;
        if let Some(event) = event
            && event_recorded(&self.db, &event.id).await?
        {
            return Ok(SyncOutcome::Duplicate);
        }
        // A customer that is not ours (another system on the same Stripe account) costs no Stripe call.
        let Some(mut generation) = generation_of(&self.db, customer_id).await? else {
            return record_unknown_customer(&self.db, event).await;
        };
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let stripe = self.read_stripe_within_deadline(customer_id).await?;
            match write_if_unchanged(&self.db, customer_id, generation, &stripe, event).await? {
                Written::Done(outcome) => return Ok(outcome),
                Written::Stale(current) => generation = current,
            }
        }
        tracing::warn!("billing state kept changing while syncing; giving up for now");
        Err(AppError::Busy {
            retry_after_secs: 5,
        })
    }

    /// The whole read is bounded: a slow Stripe fails this sync (the webhook is retried by Stripe)
    /// instead of holding a request for minutes.
    async fn read_stripe_within_deadline(
        &self,
        customer_id: &CustomerId,
    ) -> AppResult<StripeState> {
        let deadline = self.config.stripe.sync_deadline;
        match tokio::time::timeout(deadline, self.read_stripe(customer_id)).await {
            Ok(result) => result,
            Err(_) => Err(AppError::PaymentProviderUnavailable(format!(
                "no complete answer from Stripe within {deadline:?}"
            ))),
        }
    }

    async fn read_stripe(&self, customer_id: &CustomerId) -> AppResult<StripeState> {
        let billing = match self.gateway.customer_billing(customer_id).await {
            Ok(billing) => billing,
            // Deleted in Stripe (L14): unbind it so that the user can buy again.
            Err(e) if e.is_missing_customer() => return Ok(StripeState::CustomerDeleted),
            Err(e) => return Err(e.into()),
        };
        let catalog = self.catalog.current();
        let mut missing: Vec<&ProductId> = billing
            .prices
            .iter()
            .map(|p| &p.product_id)
            .filter(|id| !catalog.plans.iter().any(|plan| &plan.product_id == *id))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        let mut new_products = Vec::new();
        for product_id in missing {
            match self.gateway.product(product_id).await {
                Ok(product) => new_products.push(product),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(StripeState::Billing {
            billing,
            new_products,
        })
    }

    /// `customer.deleted`, or Stripe answering "No such customer" for the one we stored: Stripe
    /// deleted the customer and canceled its subscriptions; the user may buy again (L14).
    #[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
    pub async fn customer_deleted(
        &self,
        customer_id: &CustomerId,
        event: Option<&VerifiedEvent>,
    ) -> AppResult<SyncOutcome> {
        let _guard = self.customer_locks.lock(customer_id.as_str()).await;
        let Some(mut generation) = generation_of(&self.db, customer_id).await? else {
            return record_unknown_customer(&self.db, event).await;
        };
        // A deletion is final, so a newer write in between needs no new read: just claim again.
        let deleted = StripeState::CustomerDeleted;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            match write_if_unchanged(&self.db, customer_id, generation, &deleted, event).await? {
                Written::Done(outcome) => return Ok(outcome),
                Written::Stale(current) => generation = current,
            }
        }
        Err(AppError::Busy {
            retry_after_secs: 5,
        })
    }
}

impl Billing {
    pub(super) async fn forget_customer(&self, customer_id: &CustomerId) -> AppResult<()> {
        self.customer_deleted(customer_id, None).await.map(drop)
    }
}

/// A sync whose write keeps losing to newer writes gives up after this many reads (503, retried).
const MAX_WRITE_ATTEMPTS: usize = 3;

enum Written {
    Done(SyncOutcome),
    /// Someone wrote since our read began; this is the generation now.
    Stale(i64),
}

async fn generation_of(db: &Database, customer_id: &CustomerId) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT billing_generation FROM users WHERE stripe_customer_id = $1",
    )
    .bind(customer_id)
    .fetch_optional(&db.pool)
    .await?)
}

/// One short transaction: record the event, claim the generation, write what Stripe said.
async fn write_if_unchanged(
    db: &Database,
    customer_id: &CustomerId,
    generation: i64,
    stripe: &StripeState,
    event: Option<&VerifiedEvent>,
) -> AppResult<Written> {
    let mut tx = db.pool.begin().await?;
    if let Some(event) = event
        && !record_event(&mut tx, event).await?
    {
        tx.rollback().await?;
        return Ok(Written::Done(SyncOutcome::Duplicate));
    }
    let now = now_unix();
    let claimed = sqlx::query_scalar::<_, UserId>(
        "UPDATE users SET billing_generation = billing_generation + 1, billing_synced_at = $1 \
         WHERE stripe_customer_id = $2 AND billing_generation = $3 RETURNING id",
    )
    .bind(now)
    .bind(customer_id)
    .bind(generation)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(user_id) = claimed else {
        let current = sqlx::query_scalar::<_, i64>(
            "SELECT billing_generation FROM users WHERE stripe_customer_id = $1",
        )
        .bind(customer_id)
        .fetch_optional(&mut *tx)
        .await?;
        return match current {
            Some(current) => {
                tx.rollback().await?;
                Ok(Written::Stale(current))
            }
            // Unbound meanwhile (deleted customer): only the event is left to record.
            None => {
                tx.commit().await?;
                Ok(Written::Done(SyncOutcome::UnknownCustomer))
            }
        };
    };
    let access = match stripe {
        StripeState::Billing {
            billing,
            new_products,
        } => write_billing(&mut tx, user_id, billing, new_products, now).await?,
        StripeState::CustomerDeleted => unbind_customer(&mut tx, customer_id, now).await?,
    };
    tx.commit().await?;
    tracing::info!(%user_id, role = %access.role, "customer synced");
    Ok(Written::Done(SyncOutcome::Applied {
        user_id,
        role: access.role,
    }))
}

/// Nothing to write for a customer that is not ours, but the event is still recorded once.
async fn record_unknown_customer(
    db: &Database,
    event: Option<&VerifiedEvent>,
) -> AppResult<SyncOutcome> {
    if let Some(event) = event {
        let mut tx = db.pool.begin().await?;
        let fresh = record_event(&mut tx, event).await?;
        tx.commit().await?;
        if !fresh {
            return Ok(SyncOutcome::Duplicate);
        }
    }
    tracing::info!("no user for this Stripe customer; nothing to sync");
    Ok(SyncOutcome::UnknownCustomer)
}
