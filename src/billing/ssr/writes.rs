//! The writes of a sync: what Stripe said about a customer, and the access it grants
//! (`domain::access_at`, the policy). Called inside `sync`'s one short transaction.

use super::notices::{NoticeLinks, had_paid_invoice, queue_invoice_notices};
use crate::catalog::ssr::{Existing, product_roles, upsert_price, upsert_product};
use crate::domain::{Access, CustomerId, ProductId, Role, SubscriptionTerms, UserId, access_at};
use crate::error::AppResult;
use crate::stripe_gateway::{CustomerBilling, InvoiceRecord, ProductRecord, SubscriptionRecord};
use sqlx::{Any, Transaction};
use std::collections::HashMap;

/// Writes the customer's billing state and the access it grants, and queues the mails the change
/// calls for (welcome, payment failed); returns the access.
pub(super) async fn write_billing(
    tx: &mut Transaction<'_, Any>,
    user_id: UserId,
    billing: &CustomerBilling,
    new_products: &[ProductRecord],
    now: i64,
    links: &NoticeLinks,
) -> AppResult<Access> {
    // Only what the catalog does not know yet: catalog rows are written by catalog changes (L5).
    for product in new_products {
        upsert_product(tx, product, Existing::Keep).await?;
    }
    for price in &billing.prices {
        upsert_price(tx, price, Existing::Keep).await?;
    }
    // Before this sync writes anything: a previous read may have caught the first paid invoice
    // without its subscription (two list calls), and that invoice must still count as new once this
    // read brings the subscription, or nobody is ever welcomed.
    let had_paid_before = had_paid_invoice(tx, user_id).await?;
    for subscription in &billing.subscriptions {
        upsert_subscription(tx, user_id, subscription, now).await?;
    }
    for invoice in &billing.invoices {
        upsert_invoice(tx, user_id, invoice, now).await?;
    }
    queue_invoice_notices(tx, user_id, billing, had_paid_before, links).await?;
    let access = access_from(billing, &product_roles(tx).await?, now);
    let on_test_clock = billing.subscriptions.iter().any(|s| s.on_test_clock);
    set_access(tx, user_id, access, on_test_clock).await?;
    Ok(access)
}

/// The customer was deleted in Stripe, which cancels its subscriptions (security review L14). The
/// user keeps their history (rows keep the old customer id) and gets a new customer at the next
/// checkout.
pub(super) async fn unbind_customer(
    tx: &mut Transaction<'_, Any>,
    customer_id: &CustomerId,
    now: i64,
) -> AppResult<Access> {
    sqlx::query(
        "UPDATE subscriptions SET status = 'canceled', ended_at = COALESCE(ended_at, $1), \
           canceled_at = COALESCE(canceled_at, $1), synced_at = $1 \
         WHERE customer_id = $2 AND status <> 'incomplete_expired'",
    )
    .bind(now)
    .bind(customer_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE users SET stripe_customer_id = NULL, role = 'free', access_until = NULL \
         WHERE stripe_customer_id = $1",
    )
    .bind(customer_id)
    .execute(&mut **tx)
    .await?;
    tracing::info!("Stripe customer deleted; unbound from its user");
    Ok(Access::FREE)
}

async fn set_access(
    tx: &mut Transaction<'_, Any>,
    user_id: UserId,
    access: Access,
    on_test_clock: bool,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE users SET role = $1, access_until = $2, billing_on_test_clock = $3 WHERE id = $4",
    )
    .bind(access.role.as_str())
    .bind(access.until)
    .bind(on_test_clock as i64)
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The access the customer's subscriptions grant at `now`, through the products their prices
/// belong to; a subscription with several items counts with the highest tier among them (L17).
fn access_from(
    billing: &CustomerBilling,
    product_roles: &HashMap<ProductId, Role>,
    now: i64,
) -> Access {
    let tier_of = |subscription: &SubscriptionRecord| {
        subscription
            .price_ids
            .iter()
            .filter_map(|price_id| billing.prices.iter().find(|p| &p.id == price_id))
            .filter_map(|price| product_roles.get(&price.product_id).copied())
            .max()
    };
    let has_paid = |subscription: &SubscriptionRecord| {
        billing.invoices.iter().any(|invoice| {
            invoice.subscription_id.as_deref() == Some(subscription.id.as_str())
                && invoice.status == "paid"
                && invoice.amount_paid > 0
        })
    };
    let terms = billing.subscriptions.iter().map(|s| SubscriptionTerms {
        status: s.status,
        tier: tier_of(s),
        current_period_start: s.current_period_start,
        current_period_end: s.current_period_end,
        trial_end: s.trial_end,
        has_paid: has_paid(s),
    });
    access_at(terms, now)
}

async fn upsert_subscription(
    tx: &mut Transaction<'_, Any>,
    user_id: UserId,
    sub: &SubscriptionRecord,
    synced_at: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO subscriptions (id, user_id, customer_id, status, price_id, quantity, cancel_at_period_end, \
             current_period_start, current_period_end, trial_end, canceled_at, ended_at, created, livemode, synced_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, customer_id = excluded.customer_id, \
           status = excluded.status, price_id = excluded.price_id, quantity = excluded.quantity, \
           cancel_at_period_end = excluded.cancel_at_period_end, \
           current_period_start = excluded.current_period_start, current_period_end = excluded.current_period_end, \
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
    .bind(sub.current_period_start)
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
    use crate::domain::SubscriptionStatus as S;
    use crate::stripe_gateway::PriceRecord;

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
            option: None,
            sort_order: 0,
            initial_stock: None,
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
            current_period_start: None,
            current_period_end: None,
            trial_end: None,
            canceled_at: None,
            ended_at: None,
            created: 0,
            livemode: false,
            on_test_clock: false,
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
        assert_eq!(access_from(&billing, &roles, 0).role, Role::Pro);
    }
}
