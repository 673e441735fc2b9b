//! `sync_customer`: reads a customer's billing state from Stripe and writes it, with the user's role.
//! Writing Stripe's latest state (rather than applying event payloads) makes it idempotent and
//! immune to event order.

use super::Billing;
use super::events::{event_recorded, record_event};
use crate::catalog::ssr::{Existing, product_roles, upsert_price, upsert_product};
use crate::db::{Backend, Database, now_unix};
use crate::domain::{CustomerId, ProductId, Role, SubscriptionStatus, UserId};
use crate::error::AppResult;
use crate::stripe_gateway::{
    CustomerBilling, InvoiceRecord, ProductRecord, SubscriptionRecord, VerifiedEvent,
};
use sqlx::{Any, Transaction};
use std::collections::HashMap;
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
struct StripeState {
    billing: CustomerBilling,
    new_products: Vec<ProductRecord>,
}

/// The role a customer's subscriptions grant: the highest tier among those with access.
pub fn role_for(
    subscriptions: impl IntoIterator<Item = (SubscriptionStatus, Option<Role>)>,
) -> Role {
    subscriptions
        .into_iter()
        .filter(|(status, _)| status.grants_access())
        .filter_map(|(_, role)| role)
        .max()
        .unwrap_or(Role::Free)
}

impl Billing {
    /// Fetches the customer's subscriptions and invoices from Stripe and writes them, and the user's
    /// role, in one transaction. With `event`, the event is recorded in the same transaction, or, if it
    /// was recorded already, nothing is written.
    ///
    /// Ordering: the Stripe read happens while this customer is locked (in-process lock, plus the
    /// user's row lock on PostgreSQL), so a later sync always reads a later state: whatever order
    /// events arrive in, the last write is Stripe's newest state. On SQLite (one instance) the row lock
    /// is taken after the read, to keep the database's single writer lock short.
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
        if user_of_customer(&self.db, customer_id).await?.is_none() {
            return record_unknown_customer(&self.db, event).await;
        }
        let (mut tx, stripe) = match self.db.backend {
            Backend::Postgres => {
                let mut tx = self.db.pool.begin().await?;
                lock_customer_row(&mut tx, customer_id).await?;
                (tx, self.read_stripe(customer_id).await?)
            }
            Backend::Sqlite => {
                let stripe = self.read_stripe(customer_id).await?;
                let mut tx = self.db.pool.begin().await?;
                lock_customer_row(&mut tx, customer_id).await?;
                (tx, stripe)
            }
        };
        if let Some(event) = event
            && !record_event(&mut tx, event).await?
        {
            tx.rollback().await?;
            return Ok(SyncOutcome::Duplicate);
        }
        let user_id =
            sqlx::query_scalar::<_, UserId>("SELECT id FROM users WHERE stripe_customer_id = $1")
                .bind(customer_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(user_id) = user_id else {
            tx.commit().await?;
            tracing::info!("no user for this Stripe customer; nothing to sync");
            return Ok(SyncOutcome::UnknownCustomer);
        };
        let role = write_stripe_state(&mut tx, user_id, &stripe).await?;
        tx.commit().await?;
        tracing::info!(%user_id, %role, "customer synced");
        Ok(SyncOutcome::Applied { user_id, role })
    }

    async fn read_stripe(&self, customer_id: &CustomerId) -> AppResult<StripeState> {
        let billing = self.gateway.customer_billing(customer_id).await?;
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
        Ok(StripeState {
            billing,
            new_products,
        })
    }
}

async fn user_of_customer(db: &Database, customer_id: &CustomerId) -> AppResult<Option<UserId>> {
    Ok(
        sqlx::query_scalar::<_, UserId>("SELECT id FROM users WHERE stripe_customer_id = $1")
            .bind(customer_id)
            .fetch_optional(&db.pool)
            .await?,
    )
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

async fn lock_customer_row(
    tx: &mut Transaction<'_, Any>,
    customer_id: &CustomerId,
) -> AppResult<()> {
    // A no-op write: a row lock on PostgreSQL, the write lock on SQLite.
    sqlx::query("UPDATE users SET role = role WHERE stripe_customer_id = $1")
        .bind(customer_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Writes what Stripe said and the role it grants; returns the role.
async fn write_stripe_state(
    tx: &mut Transaction<'_, Any>,
    user_id: UserId,
    stripe: &StripeState,
) -> AppResult<Role> {
    let billing = &stripe.billing;
    // Only what the catalog does not know yet: catalog rows are written by catalog changes (L5).
    for product in &stripe.new_products {
        upsert_product(tx, product, Existing::Keep).await?;
    }
    for price in &billing.prices {
        upsert_price(tx, price, Existing::Keep).await?;
    }
    let now = now_unix();
    for subscription in &billing.subscriptions {
        upsert_subscription(tx, user_id, subscription, now).await?;
    }
    for invoice in &billing.invoices {
        upsert_invoice(tx, user_id, invoice, now).await?;
    }
    let role = role_from(billing, &product_roles(tx).await?);
    sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
        .bind(role.as_str())
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(role)
}

/// The role the customer's subscriptions grant, through the products their prices belong to; a
/// subscription with several items grants the highest tier among them.
fn role_from(billing: &CustomerBilling, product_roles: &HashMap<ProductId, Role>) -> Role {
    let role_of_price = |subscription: &SubscriptionRecord| {
        subscription
            .price_ids
            .iter()
            .filter_map(|price_id| billing.prices.iter().find(|p| &p.id == price_id))
            .filter_map(|price| product_roles.get(&price.product_id).copied())
            .max()
    };
    role_for(
        billing
            .subscriptions
            .iter()
            .map(|s| (s.status, role_of_price(s))),
    )
}

async fn upsert_subscription(
    tx: &mut Transaction<'_, Any>,
    user_id: UserId,
    sub: &SubscriptionRecord,
    synced_at: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO subscriptions (id, user_id, customer_id, status, price_id, quantity, cancel_at_period_end, \
             current_period_end, trial_end, canceled_at, ended_at, created, livemode, synced_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, customer_id = excluded.customer_id, \
           status = excluded.status, price_id = excluded.price_id, quantity = excluded.quantity, \
           cancel_at_period_end = excluded.cancel_at_period_end, current_period_end = excluded.current_period_end, \
           trial_end = excluded.trial_end, canceled_at = excluded.canceled_at, ended_at = excluded.ended_at, \
           created = excluded.created, livemode = excluded.livemode, synced_at = excluded.synced_at",
    )
    .bind(&sub.id)
    .bind(user_id)
    .bind(&sub.customer_id)
    .bind(sub.status.as_str())
    .bind(sub.price_ids.first())
    .bind(sub.quantity)
    .bind(sub.cancel_at_period_end as i64)
    .bind(sub.current_period_end)
    .bind(sub.trial_end)
    .bind(sub.canceled_at)
    .bind(sub.ended_at)
    .bind(sub.created)
    .bind(sub.livemode as i64)
    .bind(synced_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn upsert_invoice(
    tx: &mut Transaction<'_, Any>,
    user_id: UserId,
    invoice: &InvoiceRecord,
    synced_at: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO invoices (id, user_id, customer_id, subscription_id, status, currency, amount_due, \
             amount_paid, hosted_invoice_url, created, synced_at) \
         SELECT $1, $2, stripe_customer_id, $3, $4, $5, $6, $7, $8, $9, $10 FROM users WHERE id = $2 \
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, amount_due = excluded.amount_due, \
           amount_paid = excluded.amount_paid, hosted_invoice_url = excluded.hosted_invoice_url, \
           synced_at = excluded.synced_at",
    )
    .bind(&invoice.id)
    .bind(user_id)
    .bind(&invoice.subscription_id)
    .bind(&invoice.status)
    .bind(&invoice.currency)
    .bind(invoice.amount_due)
    .bind(invoice.amount_paid)
    .bind(&invoice.hosted_invoice_url)
    .bind(invoice.created)
    .bind(synced_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PriceId;
    use crate::stripe_gateway::PriceRecord;
    use SubscriptionStatus as S;

    fn price(id: &str, product: &str) -> PriceRecord {
        PriceRecord {
            id: PriceId::from(id),
            product_id: ProductId::from(product),
            active: true,
            currency: "usd".into(),
            unit_amount: Some(900),
            interval: Some("month".into()),
            interval_count: 1,
            trial_period_days: None,
            lookup_key: None,
            livemode: false,
        }
    }

    /// Security review L17: an add-on listed before the plan must not hide the plan's tier.
    #[test]
    fn l17_a_multi_item_subscription_grants_its_highest_tier() {
        let subscription = SubscriptionRecord {
            id: "sub_1".into(),
            customer_id: CustomerId::from("cus_1"),
            status: S::Active,
            price_ids: vec![PriceId::from("price_addon"), PriceId::from("price_pro")],
            quantity: 1,
            cancel_at_period_end: false,
            current_period_end: None,
            trial_end: None,
            canceled_at: None,
            ended_at: None,
            created: 0,
            livemode: false,
        };
        let billing = CustomerBilling {
            subscriptions: vec![subscription],
            invoices: vec![],
            prices: vec![
                price("price_addon", "prod_addon"),
                price("price_pro", "prod_pro"),
            ],
        };
        let roles = HashMap::from([(ProductId::from("prod_pro"), Role::Pro)]);
        assert_eq!(role_from(&billing, &roles), Role::Pro);
    }

    #[test]
    fn role_is_the_highest_tier_with_access() {
        assert_eq!(role_for([]), Role::Free);
        assert_eq!(role_for([(S::Active, Some(Role::Basic))]), Role::Basic);
        assert_eq!(
            role_for([
                (S::Canceled, Some(Role::Pro)),
                (S::Active, Some(Role::Basic))
            ]),
            Role::Basic
        );
        assert_eq!(role_for([(S::Trialing, Some(Role::Pro))]), Role::Pro);
        assert_eq!(role_for([(S::PastDue, Some(Role::Pro))]), Role::Pro);
        for over in [
            S::Canceled,
            S::Unpaid,
            S::Incomplete,
            S::IncompleteExpired,
            S::Paused,
        ] {
            assert_eq!(role_for([(over, Some(Role::Pro))]), Role::Free, "{over}");
        }
        assert_eq!(
            role_for([(S::Active, None)]),
            Role::Free,
            "a product without a role grants nothing"
        );
    }
}
