//! Which customers billing re-reads (reconciliation, `resync`), and what the database knows of a
//! user's subscriptions. The Stripe customer itself is `crate::customers`.

use super::Billing;
use crate::db::Database;
use crate::domain::{CustomerId, RENEWAL_SLACK_SECS, SubscriptionStatus, UserId};
use crate::error::AppResult;

/// A customer that stays past due is re-read at most this often by reconciliation.
const RECONCILE_AT_MOST_EVERY_SECS: i64 = 6 * 3600;

impl Billing {
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
