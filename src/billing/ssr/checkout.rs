//! Starting a subscription (Checkout), managing it (Billing Portal), and the page Stripe sends the
//! customer back to.

use super::Billing;
use super::customers::{has_had_subscription, has_open_subscription};
use crate::auth::User;
use crate::billing::{NO_BILLING_ACCOUNT, PLAN_NOT_ON_SALE};
use crate::catalog::PlanPrice;
use crate::db::{Database, now_unix};
use crate::domain::{CheckoutSessionId, CustomerId, PriceId, Role, UserId};
use crate::error::{AppError, AppResult};
use crate::stripe_gateway::{CheckoutSessionStatus, GatewayError, NewCheckout};
use crate::stripe_sync::SyncOutcome;

/// One Checkout Session per user, price and this many seconds: a double click gets the same one back.
const CHECKOUT_IDEMPOTENCY_WINDOW_SECS: i64 = 600;
/// A sync this recent is shown on the success page without asking Stripe again (M2).
const FRESH_SYNC_SECS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutResult {
    Complete(Role),
    Processing,
}

impl Billing {
    /// Where `start_checkout` sends the browser: Stripe Checkout, or the portal for a subscriber.
    #[tracing::instrument(skip_all, fields(user_id = %user.id, price_id = %price_id))]
    pub async fn checkout_destination(&self, user: &User, price_id: &str) -> AppResult<String> {
        let not_on_sale = || AppError::Invalid(PLAN_NOT_ON_SALE.into());
        let price_id = PriceId::parse(price_id).ok_or_else(not_on_sale)?;
        let catalog = self.catalog.current();
        let (plan, price) = catalog.find_price(&price_id).ok_or_else(not_on_sale)?;
        self.budget.check(user.id)?;
        // A returning customer's state is read from Stripe first: a subscription whose webhook has not
        // arrived yet must still send them to the portal rather than into a second subscription.
        if let Some(customer_id) = self.customers.stored(user.id).await? {
            self.sync_customer(&customer_id, None).await?;
        }
        if has_open_subscription(&self.db, user.id).await? {
            return self.portal_url(user).await;
        }
        let customer_id = self.customers.ensure(user).await?;
        let url = match self.create_checkout(user, &customer_id, price).await {
            // Deleted in Stripe since we stored it (L14): forget it and start with a new customer.
            Err(e) if e.is_missing_customer() => {
                self.forget_customer(&customer_id).await?;
                let customer_id = self.customers.ensure(user).await?;
                self.create_checkout(user, &customer_id, price).await?
            }
            other => other?,
        };
        tracing::info!(plan = %plan.name, "checkout session created");
        Ok(url)
    }

    /// Creates the Checkout Session and remembers it as this user's; returns its URL.
    async fn create_checkout(
        &self,
        user: &User,
        customer_id: &CustomerId,
        price: &PlanPrice,
    ) -> Result<String, CheckoutError> {
        // Trials are for first subscriptions only.
        let trial_period_days = match price.trial_days {
            Some(days) if days > 0 && !has_had_subscription(&self.db, user.id).await? => {
                u32::try_from(days).ok()
            }
            _ => None,
        };
        let owner = self.customers.owner_of(user.id).await?;
        let idempotency_key = format!(
            "storefront-{}-checkout-{}-{}-{}-{}",
            owner.installation,
            owner.user,
            customer_id,
            price.price_id,
            now_unix() / CHECKOUT_IDEMPOTENCY_WINDOW_SECS
        );
        let session = self
            .gateway
            .create_checkout_session(NewCheckout {
                customer_id,
                price_id: &price.price_id,
                user_id: user.id,
                owner: &owner,
                trial_period_days,
                success_url: &self
                    .config
                    .url("/billing/success?session_id={CHECKOUT_SESSION_ID}"),
                cancel_url: &self
                    .config
                    .url(&format!("/pricing?interval={}", price.interval)),
                idempotency_key: &idempotency_key,
            })
            .await?;
        remember_session(&self.db, &session.id, user.id).await?;
        session
            .url
            .ok_or_else(|| AppError::Internal("checkout session without url".into()).into())
    }

    /// `open_billing_portal`: the user's portal, within their billing limit.
    pub async fn open_portal(&self, user: &User) -> AppResult<String> {
        self.budget.check(user.id)?;
        self.portal_url(user).await
    }

    async fn portal_url(&self, user: &User) -> AppResult<String> {
        let no_account = || AppError::Invalid(NO_BILLING_ACCOUNT.into());
        let customer_id = self
            .customers
            .stored(user.id)
            .await?
            .ok_or_else(no_account)?;
        match self
            .gateway
            .create_portal_session(&customer_id, &self.config.url("/dashboard"))
            .await
        {
            Ok(url) => Ok(url),
            Err(e) if e.is_missing_customer() => {
                self.forget_customer(&customer_id).await?;
                Err(no_account())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The success page's work: the session must be one this app created for the signed-in user;
    /// then sync, so the page is right even when the webhook is late or lost. A reload within a
    /// minute of a sync shows that sync's result without asking Stripe again (M2).
    pub async fn complete_checkout(
        &self,
        user: &User,
        session_id: &str,
    ) -> AppResult<CheckoutResult> {
        let session_id = CheckoutSessionId::parse(session_id).ok_or(AppError::NotFound)?;
        // Unknown ids, and other users' sessions, are answered here at no Stripe call.
        if !is_users_session(&self.db, &session_id, user.id).await? {
            return Err(AppError::NotFound);
        }
        if let Some(role) = fresh_paid_role(&self.db, user.id).await? {
            return Ok(CheckoutResult::Complete(role));
        }
        self.budget.check(user.id)?;
        let session = match self.gateway.checkout_session(&session_id).await {
            Ok(session) => session,
            Err(e @ GatewayError::Refused { .. }) if e.is_not_found() => {
                return Err(AppError::NotFound);
            }
            Err(e) => return Err(e.into()),
        };
        let own_customer = self.customers.stored(user.id).await?;
        if own_customer.is_none() || session.customer_id != own_customer {
            // Same answer as a session that does not exist: no hint that the id is valid.
            return Err(AppError::NotFound);
        }
        let (CheckoutSessionStatus::Complete, Some(customer_id)) =
            (session.status, session.customer_id)
        else {
            return Ok(CheckoutResult::Processing);
        };
        match self.sync_customer(&customer_id, None).await? {
            SyncOutcome::Applied(synced) => Ok(CheckoutResult::Complete(synced.role)),
            _ => Ok(CheckoutResult::Processing),
        }
    }
}

/// `create_checkout`'s failures: the gateway's own (so a missing customer can be recognised), or ours.
enum CheckoutError {
    Gateway(GatewayError),
    App(AppError),
}

impl CheckoutError {
    fn is_missing_customer(&self) -> bool {
        matches!(self, CheckoutError::Gateway(e) if e.is_missing_customer())
    }
}

impl From<GatewayError> for CheckoutError {
    fn from(error: GatewayError) -> Self {
        CheckoutError::Gateway(error)
    }
}

impl From<AppError> for CheckoutError {
    fn from(error: AppError) -> Self {
        CheckoutError::App(error)
    }
}

impl From<sqlx::Error> for CheckoutError {
    fn from(error: sqlx::Error) -> Self {
        CheckoutError::App(error.into())
    }
}

impl From<CheckoutError> for AppError {
    fn from(error: CheckoutError) -> Self {
        match error {
            CheckoutError::Gateway(e) => e.into(),
            CheckoutError::App(e) => e,
        }
    }
}

impl Billing {
    /// Retention: forgets the Checkout Sessions created before `cutoff` (they only tie a success
    /// page to its user, for the first minutes).
    pub async fn forget_checkout_sessions_before(&self, cutoff: i64) -> AppResult<u64> {
        let deleted = sqlx::query("DELETE FROM checkout_sessions WHERE created_at < $1")
            .bind(cutoff)
            .execute(&self.db.pool)
            .await?;
        Ok(deleted.rows_affected())
    }
}

async fn remember_session(db: &Database, id: &CheckoutSessionId, user_id: UserId) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO checkout_sessions (id, user_id, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(user_id)
    .bind(now_unix())
    .execute(&db.pool)
    .await?;
    Ok(())
}

async fn is_users_session(
    db: &Database,
    id: &CheckoutSessionId,
    user_id: UserId,
) -> AppResult<bool> {
    let count = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM checkout_sessions WHERE id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user_id)
    .fetch_one(&db.pool)
    .await?;
    Ok(count > 0)
}

/// The user's paid role, if their billing state was read from Stripe in the last minute.
async fn fresh_paid_role(db: &Database, user_id: UserId) -> AppResult<Option<Role>> {
    let row = sqlx::query_as::<_, (String, Option<i64>)>(
        "SELECT role, billing_synced_at FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.and_then(|(role, synced_at)| {
        let fresh = synced_at.is_some_and(|t| t > now_unix() - FRESH_SYNC_SECS);
        let role = role.parse::<Role>().ok()?;
        (fresh && role != Role::Free).then_some(role)
    }))
}

#[cfg(test)]
mod form_contract_tests {
    use crate::components::form_contract::{hidden_messages, raised_in};
    use std::path::Path;

    /// Every message billing's server code raises for a form is one its forms can show.
    #[test]
    fn every_message_billing_raises_is_one_its_forms_show() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/billing");
        let raised = raised_in(&root, &[&root.join("mod.rs")]);
        assert!(raised.len() >= 2, "the scanner found {raised:?}");
        let hidden = hidden_messages(&raised, crate::billing::BILLING_FORM_MESSAGES);
        assert!(
            hidden.is_empty(),
            "shown as 'Something went wrong': {hidden:#?}"
        );
    }
}
