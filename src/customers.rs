//! Our users' Stripe customers: created once per user, bound only when Stripe's metadata names this
//! installation and this very user (security review M5). Billing (subscriptions) and the shop (orders)
//! both buy as the user's customer. Server only.

use crate::auth::User;
use crate::db::Database;
use crate::domain::{CustomerId, UserId};
use crate::error::{AppError, AppResult};
use crate::installation::Installation;
use crate::stripe_gateway::{CustomerOwner, StripeGateway};
use std::sync::Arc;

#[derive(Clone)]
pub struct Customers {
    db: Database,
    gateway: Arc<StripeGateway>,
    installation: Arc<Installation>,
}

impl Customers {
    pub fn new(db: Database, gateway: Arc<StripeGateway>, installation: Arc<Installation>) -> Self {
        Self {
            db,
            gateway,
            installation,
        }
    }

    /// The user's Stripe customer, created once. Double clicks and concurrent instances converge on
    /// one customer: Stripe answers a repeated idempotency key (derived from the owner) with the
    /// same object, and the conditional UPDATE keeps whichever id was stored first.
    pub async fn ensure(&self, user: &User) -> AppResult<CustomerId> {
        if let Some(customer_id) = self.stored(user.id).await? {
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
        self.stored(user.id)
            .await?
            .ok_or_else(|| AppError::Internal("customer id not stored".into()))
    }

    /// Unbinds `customer_id`, which Stripe no longer knows (deleted in its dashboard), so the next
    /// `ensure` makes a new one; the owner's generation moves on, so the new customer gets a new
    /// idempotency key. Only a customer without subscriptions here: one with subscriptions is
    /// billing's to unbind (its sync cancels them and sets the role), and false is answered.
    pub async fn forget_deleted(
        &self,
        user_id: UserId,
        customer_id: &CustomerId,
    ) -> AppResult<bool> {
        let unbound = sqlx::query(
            "UPDATE users SET stripe_customer_id = NULL, billing_generation = billing_generation + 1 \
             WHERE id = $1 AND stripe_customer_id = $2 \
             AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE customer_id = $2)",
        )
        .bind(user_id)
        .bind(customer_id)
        .execute(&self.db.pool)
        .await?;
        if unbound.rows_affected() == 1 {
            tracing::warn!(%user_id, customer = %customer_id, "Stripe customer gone; a new one will be made");
        }
        Ok(unbound.rows_affected() == 1)
    }

    /// The customer stored for the user, if any (no Stripe call).
    pub async fn stored(&self, user_id: UserId) -> AppResult<Option<CustomerId>> {
        Ok(sqlx::query_scalar::<_, Option<CustomerId>>(
            "SELECT stripe_customer_id FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_one(&self.db.pool)
        .await?)
    }

    /// Carries a changed address to the user's customer, whose address Stripe mails its own receipts
    /// and invoices to (issue 21). A failure is logged, not raised: the change is ours and stands;
    /// the next change carries it again.
    pub async fn carry_email(
        &self,
        user_id: UserId,
        email: &crate::domain::Email,
    ) -> AppResult<()> {
        let Some(customer_id) = self.stored(user_id).await? else {
            return Ok(());
        };
        if let Err(error) = self
            .gateway
            .update_customer_email(&customer_id, email)
            .await
        {
            tracing::error!(%user_id, customer = %customer_id, %error, "changed address not carried to Stripe");
        }
        Ok(())
    }

    /// Deletes the user's customer at Stripe (an erased account, issue 21); one Stripe no longer
    /// knows is as good as deleted.
    pub async fn delete_at_stripe(&self, user_id: UserId) -> AppResult<()> {
        let Some(customer_id) = self.stored(user_id).await? else {
            return Ok(());
        };
        match self.gateway.delete_customer(&customer_id).await {
            Err(error) if !error.is_not_found() => Err(error.into()),
            _ => {
                tracing::info!(%user_id, customer = %customer_id, "Stripe customer deleted");
                Ok(())
            }
        }
    }

    /// The owner written into the user's Stripe objects.
    pub async fn owner_of(&self, user_id: UserId) -> AppResult<CustomerOwner> {
        let (created_at, generation) = sqlx::query_as::<_, (i64, i64)>(
            "SELECT created_at, billing_generation FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_one(&self.db.pool)
        .await?;
        Ok(CustomerOwner::new(
            self.installation.id(),
            user_id,
            created_at,
            generation,
        ))
    }
}
