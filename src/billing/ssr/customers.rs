//! Our users' Stripe customers, and what the database knows of their subscriptions.

use super::Billing;
use crate::auth::User;
use crate::db::Database;
use crate::domain::{CustomerId, SubscriptionStatus, UserId};
use crate::error::{AppError, AppResult};

impl Billing {
    /// The user's Stripe customer, created once. Double clicks and concurrent instances converge on
    /// one customer: Stripe answers a repeated idempotency key (derived from the user id) with the
    /// same object, and the conditional UPDATE keeps whichever id was stored first.
    pub(super) async fn ensure_customer(&self, user: &User) -> AppResult<CustomerId> {
        if let Some(customer_id) = stored_customer(&self.db, user.id).await? {
            return Ok(customer_id);
        }
        let customer_id = match self.gateway.find_customer_for_user(user.id).await? {
            Some(found) => found,
            None => self.gateway.create_customer(user.id, &user.email).await?,
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
