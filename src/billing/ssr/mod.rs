//! Server side of billing. `sync_customer` is the only writer of a customer's billing state.

mod locks;
pub mod stripe;

pub use locks::KeyedLocks;

use self::stripe::{CustomerBilling, GatewayError, NewCheckout, VerifiedEvent};
use crate::auth::{Role, User};
use crate::catalog::ssr::{product_roles, upsert_price, upsert_product};
use crate::db::{Backend, now_unix};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use sqlx::{Any, Transaction};

/// Statuses that give access: past_due keeps it during Stripe's retry window.
const ACCESS_STATUSES: &[&str] = &["active", "trialing", "past_due"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    Applied {
        user_id: i64,
        role: Role,
    },
    /// The event was applied before (by this or another instance).
    Duplicate,
    /// No user of ours has this customer; nothing to write but the event record.
    UnknownCustomer,
}

/// The role a customer's subscriptions grant: the highest tier among those with access.
pub fn role_for<'a>(subscriptions: impl IntoIterator<Item = (&'a str, Option<Role>)>) -> Role {
    subscriptions
        .into_iter()
        .filter(|(status, _)| ACCESS_STATUSES.contains(status))
        .filter_map(|(_, role)| role)
        .max()
        .unwrap_or(Role::Free)
}

/// Fetches the customer's subscriptions and invoices from Stripe and writes them, and the user's role,
/// in one transaction. With `event`, the event is recorded in the same transaction, or, if it was
/// recorded already, nothing is written.
///
/// Ordering: the Stripe read happens while this customer is locked (in-process lock, plus the user's
/// row lock on PostgreSQL), so a later sync always reads a later state: whatever order events arrive
/// in, the last write is Stripe's newest state. On SQLite (one instance) the row lock is taken after
/// the read, to keep the database's single writer lock short.
pub async fn sync_customer(
    state: &AppState,
    customer_id: &str,
    event: Option<&VerifiedEvent>,
) -> AppResult<SyncOutcome> {
    let _guard = state.customer_locks.lock(customer_id).await;
    if let Some(event) = event
        && event_recorded(state, &event.id).await?
    {
        return Ok(SyncOutcome::Duplicate);
    }
    let (mut tx, billing) = match state.db.backend {
        Backend::Postgres => {
            let mut tx = state.db.pool.begin().await?;
            lock_customer_row(&mut tx, customer_id).await?;
            let billing = fetch_billing(state, customer_id).await?;
            (tx, billing)
        }
        Backend::Sqlite => {
            let billing = fetch_billing(state, customer_id).await?;
            let mut tx = state.db.pool.begin().await?;
            lock_customer_row(&mut tx, customer_id).await?;
            (tx, billing)
        }
    };
    if let Some(event) = event
        && !record_event(&mut tx, event).await?
    {
        tx.rollback().await?;
        return Ok(SyncOutcome::Duplicate);
    }
    let user_id =
        sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE stripe_customer_id = $1")
            .bind(customer_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(user_id) = user_id else {
        tx.commit().await?;
        tracing::info!(
            customer_id,
            "no user for this Stripe customer; nothing to sync"
        );
        return Ok(SyncOutcome::UnknownCustomer);
    };
    let role = apply_billing(&mut tx, user_id, &billing.0, &billing.1).await?;
    tx.commit().await?;
    tracing::info!(
        customer_id,
        user_id,
        role = role.as_str(),
        "customer synced"
    );
    Ok(SyncOutcome::Applied { user_id, role })
}

/// A Stripe read for one customer: billing state plus the products its prices belong to that the
/// catalog does not know yet (a price can be newer than our last catalog sync).
async fn fetch_billing(
    state: &AppState,
    customer_id: &str,
) -> AppResult<(CustomerBilling, Vec<self::stripe::ProductRecord>)> {
    let billing = state.gateway.customer_billing(customer_id).await?;
    let known: Vec<String> = state
        .catalog
        .current()
        .plans
        .iter()
        .map(|p| p.product_id.clone())
        .collect();
    let mut missing: Vec<&str> = billing
        .prices
        .iter()
        .map(|p| p.product_id.as_str())
        .filter(|id| !known.iter().any(|k| k == id))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    let mut products = Vec::new();
    for product_id in missing {
        match state.gateway.product(product_id).await {
            Ok(product) => products.push(product),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok((billing, products))
}

async fn lock_customer_row(tx: &mut Transaction<'_, Any>, customer_id: &str) -> AppResult<()> {
    // A no-op write: a row lock on PostgreSQL, the write lock on SQLite.
    sqlx::query("UPDATE users SET role = role WHERE stripe_customer_id = $1")
        .bind(customer_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn apply_billing(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
    billing: &CustomerBilling,
    new_products: &[self::stripe::ProductRecord],
) -> AppResult<Role> {
    for product in new_products {
        upsert_product(tx, product).await?;
    }
    for price in &billing.prices {
        upsert_price(tx, price).await?;
    }
    let now = now_unix();
    for sub in &billing.subscriptions {
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
        .bind(&sub.status)
        .bind(&sub.price_id)
        .bind(sub.quantity)
        .bind(sub.cancel_at_period_end as i64)
        .bind(sub.current_period_end)
        .bind(sub.trial_end)
        .bind(sub.canceled_at)
        .bind(sub.ended_at)
        .bind(sub.created)
        .bind(sub.livemode as i64)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    for invoice in &billing.invoices {
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
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    let product_roles = product_roles(tx).await?;
    let role_of_price = |price_id: &Option<String>| -> Option<Role> {
        let price = billing
            .prices
            .iter()
            .find(|p| Some(&p.id) == price_id.as_ref())?;
        let role = product_roles
            .iter()
            .find(|(id, _)| *id == price.product_id)?
            .1
            .clone()?;
        Role::try_from(role).ok()
    };
    let role = role_for(
        billing
            .subscriptions
            .iter()
            .map(|s| (s.status.as_str(), role_of_price(&s.price_id))),
    );
    sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
        .bind(role.as_str())
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(role)
}

async fn event_recorded(state: &AppState, event_id: &str) -> AppResult<bool> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM stripe_events WHERE id = $1")
            .bind(event_id)
            .fetch_one(&state.db.pool)
            .await?
            > 0,
    )
}

/// Records the event; false when it was recorded already (a concurrent delivery got there first).
pub async fn record_event(tx: &mut Transaction<'_, Any>, event: &VerifiedEvent) -> AppResult<bool> {
    let inserted = sqlx::query(
        "INSERT INTO stripe_events (id, type, created, livemode, received_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&event.id)
    .bind(&event.event_type)
    .bind(event.created)
    .bind(event.livemode as i64)
    .bind(now_unix())
    .execute(&mut **tx)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// The user's Stripe customer, created once. Double clicks and concurrent instances converge on one
/// customer: Stripe answers a repeated idempotency key (derived from the user id) with the same object,
/// and the conditional UPDATE keeps whichever id was stored first.
pub async fn ensure_customer(state: &AppState, user: &User) -> AppResult<String> {
    let stored = stored_customer(state, user.id).await?;
    if let Some(customer_id) = stored {
        return Ok(customer_id);
    }
    let customer_id = match state.gateway.find_customer_for_user(user.id).await? {
        Some(found) => found,
        None => state.gateway.create_customer(user.id, &user.email).await?,
    };
    sqlx::query(
        "UPDATE users SET stripe_customer_id = $1 WHERE id = $2 AND stripe_customer_id IS NULL",
    )
    .bind(&customer_id)
    .bind(user.id)
    .execute(&state.db.pool)
    .await?;
    let stored = stored_customer(state, user.id).await?;
    stored.ok_or_else(|| AppError::Internal("customer id not stored".into()))
}

async fn stored_customer(state: &AppState, user_id: i64) -> AppResult<Option<String>> {
    Ok(sqlx::query_scalar::<_, Option<String>>(
        "SELECT stripe_customer_id FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_one(&state.db.pool)
    .await?)
}

/// Every customer of ours, for `storefront resync`.
pub async fn customers_to_resync(state: &AppState) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar::<_, String>(
        "SELECT stripe_customer_id FROM users WHERE stripe_customer_id IS NOT NULL ORDER BY id",
    )
    .fetch_all(&state.db.pool)
    .await?)
}

/// True when the user has a subscription that is not over: they manage it in the portal instead of
/// buying a second one.
async fn has_live_subscription(state: &AppState, user_id: i64) -> AppResult<bool> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM subscriptions WHERE user_id = $1 \
         AND status IN ('active', 'trialing', 'past_due', 'unpaid', 'incomplete', 'paused')",
    )
    .bind(user_id)
    .fetch_one(&state.db.pool)
    .await?
        > 0)
}

async fn has_had_subscription(state: &AppState, user_id: i64) -> AppResult<bool> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM subscriptions WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&state.db.pool)
            .await?
            > 0,
    )
}

/// Where `start_checkout` sends the browser.
pub async fn checkout_destination(
    state: &AppState,
    user: &User,
    price_id: &str,
) -> AppResult<String> {
    let catalog = state.catalog.current();
    let Some((plan, price)) = catalog.find_price(price_id) else {
        return Err(AppError::Invalid(
            "That plan is not on sale. Please choose one of the plans below.".into(),
        ));
    };
    // A returning customer's state is read from Stripe first: a subscription whose webhook has not
    // arrived yet must still send them to the portal rather than into a second subscription.
    if let Some(customer_id) = stored_customer(state, user.id).await? {
        sync_customer(state, &customer_id, None).await?;
    }
    if has_live_subscription(state, user.id).await? {
        return open_portal(state, user).await;
    }
    let customer_id = ensure_customer(state, user).await?;
    // Trials are for first subscriptions only.
    let trial_period_days = match price.trial_days {
        Some(days) if days > 0 && !has_had_subscription(state, user.id).await? => {
            u32::try_from(days).ok()
        }
        _ => None,
    };
    let app_url = state.config.app_url.as_str().trim_end_matches('/');
    // One Checkout Session per user, price and ten minutes: a double click gets the same session back.
    let idempotency_key = format!(
        "storefront-checkout-{}-{}-{}",
        user.id,
        price.price_id,
        now_unix() / 600
    );
    let session = state
        .gateway
        .create_checkout_session(NewCheckout {
            customer_id: &customer_id,
            price_id: &price.price_id,
            user_id: user.id,
            trial_period_days,
            success_url: &format!("{app_url}/billing/success?session_id={{CHECKOUT_SESSION_ID}}"),
            cancel_url: &format!("{app_url}/pricing?interval={}", price.interval.as_str()),
            idempotency_key: &idempotency_key,
        })
        .await?;
    tracing::info!(user_id = user.id, plan = %plan.name, session_id = %session.id, "checkout session created");
    session
        .url
        .ok_or_else(|| AppError::Internal("checkout session without url".into()))
}

pub async fn open_portal(state: &AppState, user: &User) -> AppResult<String> {
    let customer_id = stored_customer(state, user.id).await?;
    let Some(customer_id) = customer_id else {
        return Err(AppError::Invalid(
            "You have no billing account yet. Choose a plan first.".into(),
        ));
    };
    let return_url = format!(
        "{}/dashboard",
        state.config.app_url.as_str().trim_end_matches('/')
    );
    Ok(state
        .gateway
        .create_portal_session(&customer_id, &return_url)
        .await?)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutResult {
    Complete(Role),
    Processing,
}

/// The success page's work: the session must be the signed-in user's own; then sync, so the page is
/// right even when the webhook is late or lost.
pub async fn complete_checkout(
    state: &AppState,
    user: &User,
    session_id: &str,
) -> AppResult<CheckoutResult> {
    if !session_id.starts_with("cs_") {
        return Err(AppError::NotFound);
    }
    let session = match state.gateway.checkout_session(session_id).await {
        Ok(session) => session,
        Err(GatewayError::Refused { status: 404, .. }) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let own_customer = stored_customer(state, user.id).await?;
    let belongs = session.client_reference_id.as_deref() == Some(&user.id.to_string())
        && own_customer.is_some()
        && session.customer_id == own_customer;
    if !belongs {
        // Same answer as a session that does not exist: no hint that the id is valid.
        return Err(AppError::NotFound);
    }
    if session.status != "complete" {
        return Ok(CheckoutResult::Processing);
    }
    let Some(customer_id) = session.customer_id else {
        return Ok(CheckoutResult::Processing);
    };
    match sync_customer(state, &customer_id, None).await? {
        SyncOutcome::Applied { role, .. } => Ok(CheckoutResult::Complete(role)),
        _ => Ok(CheckoutResult::Processing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_is_the_highest_tier_with_access() {
        assert_eq!(role_for([]), Role::Free);
        assert_eq!(role_for([("active", Some(Role::Basic))]), Role::Basic);
        assert_eq!(
            role_for([("canceled", Some(Role::Pro)), ("active", Some(Role::Basic))]),
            Role::Basic
        );
        assert_eq!(role_for([("trialing", Some(Role::Pro))]), Role::Pro);
        assert_eq!(role_for([("past_due", Some(Role::Pro))]), Role::Pro);
        for over in [
            "canceled",
            "unpaid",
            "incomplete",
            "incomplete_expired",
            "paused",
        ] {
            assert_eq!(role_for([(over, Some(Role::Pro))]), Role::Free, "{over}");
        }
        assert_eq!(
            role_for([("active", None)]),
            Role::Free,
            "a product without a role grants nothing"
        );
    }
}
