//! Billing's part of erasing an account (issue 21): its live subscriptions end at Stripe at once,
//! so nothing is charged after the account is gone.

use super::Billing;
use crate::domain::UserId;
use crate::error::AppResult;

impl Billing {
    /// Cancels every subscription of the user that Stripe may still bill, now (not at the period's
    /// end). One Stripe no longer knows is as good as cancelled. Returns how many were cancelled.
    #[tracing::instrument(skip(self))]
    pub async fn cancel_subscriptions_now(&self, user_id: UserId) -> AppResult<usize> {
        let live = sqlx::query_scalar::<_, String>(
            "SELECT id FROM subscriptions WHERE user_id = $1 \
             AND status NOT IN ('canceled', 'incomplete_expired') ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(&self.db.pool)
        .await?;
        for id in &live {
            match self.gateway.cancel_subscription_now(id).await {
                Err(error) if !error.is_not_found() => return Err(error.into()),
                _ => tracing::info!(subscription = %id, "subscription cancelled for an erasure"),
            }
        }
        Ok(live.len())
    }
}
