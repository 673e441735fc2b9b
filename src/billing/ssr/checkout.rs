//! Starting a subscription (Checkout), managing it (Billing Portal), and the page Stripe sends the
//! customer back to.

use super::customers::{has_had_subscription, has_open_subscription, stored_customer};
use super::{Billing, SyncOutcome};
use crate::auth::User;
use crate::db::now_unix;
use crate::domain::{CheckoutSessionId, PriceId, Role};
use crate::error::{AppError, AppResult};
use crate::stripe_gateway::{CheckoutSessionStatus, GatewayError, NewCheckout};

/// One Checkout Session per user, price and this many seconds: a double click gets the same one back.
const CHECKOUT_IDEMPOTENCY_WINDOW_SECS: i64 = 600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutResult {
    Complete(Role),
    Processing,
}

impl Billing {
    /// Where `start_checkout` sends the browser: Stripe Checkout, or the portal for a subscriber.
    #[tracing::instrument(skip_all, fields(user_id = %user.id, price_id = %price_id))]
    pub async fn checkout_destination(&self, user: &User, price_id: &str) -> AppResult<String> {
        let not_on_sale = || {
            AppError::Invalid(
                "That plan is not on sale. Please choose one of the plans below.".into(),
            )
        };
        let price_id = PriceId::parse(price_id).ok_or_else(not_on_sale)?;
        let catalog = self.catalog.current();
        let (plan, price) = catalog.find_price(&price_id).ok_or_else(not_on_sale)?;
        // A returning customer's state is read from Stripe first: a subscription whose webhook has not
        // arrived yet must still send them to the portal rather than into a second subscription.
        if let Some(customer_id) = stored_customer(&self.db, user.id).await? {
            self.sync_customer(&customer_id, None).await?;
        }
        if has_open_subscription(&self.db, user.id).await? {
            return self.open_portal(user).await;
        }
        let customer_id = self.ensure_customer(user).await?;
        // Trials are for first subscriptions only.
        let trial_period_days = match price.trial_days {
            Some(days) if days > 0 && !has_had_subscription(&self.db, user.id).await? => {
                u32::try_from(days).ok()
            }
            _ => None,
        };
        let idempotency_key = format!(
            "storefront-checkout-{}-{}-{}",
            user.id,
            price.price_id,
            now_unix() / CHECKOUT_IDEMPOTENCY_WINDOW_SECS
        );
        let session = self
            .gateway
            .create_checkout_session(NewCheckout {
                customer_id: &customer_id,
                price_id: &price.price_id,
                user_id: user.id,
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
        tracing::info!(plan = %plan.name, session_id = %session.id, "checkout session created");
        session
            .url
            .ok_or_else(|| AppError::Internal("checkout session without url".into()))
    }

    pub async fn open_portal(&self, user: &User) -> AppResult<String> {
        let Some(customer_id) = stored_customer(&self.db, user.id).await? else {
            return Err(AppError::Invalid(
                "You have no billing account yet. Choose a plan first.".into(),
            ));
        };
        Ok(self
            .gateway
            .create_portal_session(&customer_id, &self.config.url("/dashboard"))
            .await?)
    }

    /// The success page's work: the session must be the signed-in user's own; then sync, so the page
    /// is right even when the webhook is late or lost.
    pub async fn complete_checkout(
        &self,
        user: &User,
        session_id: &str,
    ) -> AppResult<CheckoutResult> {
        let session_id = CheckoutSessionId::parse(session_id).ok_or(AppError::NotFound)?;
        let session = match self.gateway.checkout_session(&session_id).await {
            Ok(session) => session,
            Err(e @ GatewayError::Refused { .. }) if e.is_not_found() => {
                return Err(AppError::NotFound);
            }
            Err(e) => return Err(e.into()),
        };
        let own_customer = stored_customer(&self.db, user.id).await?;
        let belongs = session.client_reference_id.as_deref() == Some(&user.id.to_string())
            && own_customer.is_some()
            && session.customer_id == own_customer;
        if !belongs {
            // Same answer as a session that does not exist: no hint that the id is valid.
            return Err(AppError::NotFound);
        }
        let (CheckoutSessionStatus::Complete, Some(customer_id)) =
            (session.status, session.customer_id)
        else {
            return Ok(CheckoutResult::Processing);
        };
        match self.sync_customer(&customer_id, None).await? {
            SyncOutcome::Applied { role, .. } => Ok(CheckoutResult::Complete(role)),
            _ => Ok(CheckoutResult::Processing),
        }
    }
}
