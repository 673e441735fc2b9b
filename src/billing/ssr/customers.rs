//! Our users' Stripe customers, and what the database knows of their subscriptions.

use super::Billing;
use crate::auth::User;
use crate::db::Database;
use crate::domain::{CustomerId, RENEWAL_SLACK_SECS, SubscriptionStatus, UserId};
use crate::error::{AppError, AppResult};
use crate::stripe_gateway::CustomerOwner;

/// A customer that stays past due is re-read at most this often by reconciliation.
const RECONCILE_AT_MOST_EVERY_SECS: i64 = 6 * 3600;

impl Billing {
    /// The user's Stripe customer, created once. Double clicks and concurrent instances converge on
    /// one customer: Stripe answers a repeated idempotency key (derived from the owner) with the
    /// same object, and the conditional UPDATE keeps whichever id was stored first. Only a customer
    /// whose metadata names this installation and this very user is ever bound (M5).
    pub(super) async fn ensure_customer(&self, user: &User) -> AppResult<CustomerId> {
        if let Some(customer_id) = stored_customer(&self.db, user.id).await? {
            return Ok(customer_id);
        }
        let owner = self.owner_of(user.id).await?;
        let customer_id = match self.gateway.find_customer(&owner).await? {
            Some(found) => found,
            None => self.gateway.create_customer(&owner, &user.email).await?,
        };
        sqlx::query(
            "UPDATE users SET stripe_customer_id = $1 WHERE id = $2 AND stripe_customer_id IS NULL",
        )
        .bind(&customer_id)
        .bind(user.id)
        .execute(&self.db.pool)
        .await?;
        stored_customer(&self.db, user.id)
            .await?
            .ok_or_else(|| AppError::Internal("customer id not stored".into()))
    }

    /// The owner written into the user's Stripe objects.
    pub(super) async fn owner_of(&self, user_id: UserId) -> AppResult<CustomerOwner> {
        let (created_at, generation) = sqlx::query_as::<_, (i64, i64)>(
            "SELECT created_at, billing_generation FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_one(&self.db.pool)
        .await?;
        Ok(CustomerOwner::new(
            &self.installation_id,
            user_id,
            created_at,
            generation,
        ))
    }

    /// Customers whose stored state says access should have ended or renewed by now (a period
    /// end in the past) and that were not read from Stripe recently: a lost webhook cannot keep a
    /// paid role (M4). At most `limit`, the longest unsynced first.
    async fn customers_to_reconcile(&self, now: i64, limit: i64) -> AppResult<Vec<CustomerId>> {
        // access_until is a period end plus RENEWAL_SLACK (or a past_due grace end): re-read an hour
        // after the period ended, when Stripe has renewed and a webhook should have told us.
        let due = now + RENEWAL_SLACK_SECS - 3600;
        let not_since = now - RECONCILE_AT_MOST_EVERY_SECS;
        Ok(sqlx::query_scalar::<_, CustomerId>(
            "SELECT stripe_customer_id FROM users \
             WHERE stripe_customer_id IS NOT NULL AND access_until IS NOT NULL AND access_until < $1 \
               AND (billing_synced_at IS NULL OR billing_synced_at < $2) \
             ORDER BY billing_synced_at LIMIT $3",
        )
        .bind(due)
        .bind(not_since)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?)
    }

    /// One reconciliation pass (M4): re-reads from Stripe at most `limit` customers whose access
    /// should have ended or renewed by `now`; returns how many were synced.
    pub async fn reconcile(&self, now: i64, limit: i64) -> AppResult<usize> {
        let customers = self.customers_to_reconcile(now, limit).await?;
        let mut synced = 0;
        for customer_id in &customers {
            match self.sync_customer(customer_id, None).await {
                Ok(_) => synced += 1,
                Err(error) => {
                    tracing::warn!(%customer_id, %error, "reconciliation sync failed; tried again next pass")
                }
            }
        }
        Ok(synced)
    }

    /// Every customer of ours, for `storefront resync`.
    pub async fn customers_to_resync(&self) -> AppResult<Vec<CustomerId>> {
        Ok(sqlx::query_scalar::<_, CustomerId>(
            "SELECT stripe_customer_id FROM users WHERE stripe_customer_id IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.db.pool)
        .await?)
    }
}

pub(super) async fn stored_customer(
    db: &Database,
    user_id: UserId,
) -> AppResult<Option<CustomerId>> {
    Ok(sqlx::query_scalar::<_, Option<CustomerId>>(
        "SELECT stripe_customer_id FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_one(&db.pool)
    .await?)
}

/// True when the user has a subscription that is not over: they manage it in the portal instead of
/// buying a second one.
pub(super) async fn has_open_subscription(db: &Database, user_id: UserId) -> AppResult<bool> {
    let statuses =
        sqlx::query_scalar::<_, String>("SELECT status FROM subscriptions WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&db.pool)
            .await?;
    // A status we cannot read was written by a newer version of this app: assume it is not over.
    Ok(statuses.iter().any(|status| {
        status
            .parse::<SubscriptionStatus>()
            .map_or(true, SubscriptionStatus::blocks_new_checkout)
    }))
}

pub(super) async fn has_had_subscription(db: &Database, user_id: UserId) -> AppResult<bool> {
    let count =
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM subscriptions WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&db.pool)
            .await?;
    Ok(count > 0)
}
