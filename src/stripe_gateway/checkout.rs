//! Customers, Checkout Sessions and Billing Portal sessions.

use super::convert::checkout_record;
use super::{
    CheckoutSessionRecord, CustomerOwner, GatewayError, NewCheckout, OWNER_METADATA_KEY,
    StripeGateway,
};
use crate::domain::{CheckoutSessionId, CustomerId, Email};
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionSubscriptionData,
    RetrieveCheckoutSession,
};
use stripe_client_core::StripeRequest;
use stripe_core::customer::{CreateCustomer, SearchCustomer};
use stripe_shared::CheckoutSessionMode;

impl StripeGateway {
    /// The customer created for `owner` earlier, found by its metadata (Stripe's search index lags by
    /// up to a minute, which the idempotency key of `create_customer` covers). Both values are ours
    /// (a generated id, digits and a dash), so they need no quoting.
    pub async fn find_customer(
        &self,
        owner: &CustomerOwner,
    ) -> Result<Option<CustomerId>, GatewayError> {
        let query = format!("metadata['{OWNER_METADATA_KEY}']:'{}'", owner.tag());
        let found = self
            .with_retries("search customers", || {
                let request = SearchCustomer::new(query.clone()).limit(1);
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(found.data.first().map(|c| CustomerId::from(c.id.as_str())))
    }

    /// Creates the owner's customer. The idempotency key is derived from the owner, so concurrent
    /// requests (double clicks, two instances) get the same customer back from Stripe.
    pub async fn create_customer(
        &self,
        owner: &CustomerOwner,
        email: &Email,
    ) -> Result<CustomerId, GatewayError> {
        let strategy = Self::idempotent(&format!(
            "storefront-{}-customer-{}-{}",
            owner.installation, owner.user, owner.generation
        ))?;
        let metadata = owner.metadata();
        let customer = self
            .with_retries("create customer", || {
                let request = CreateCustomer::new()
                    .email(email.as_str())
                    .metadata(metadata.clone())
                    .customize()
                    .request_strategy(strategy.clone());
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(CustomerId::from(customer.id.as_str()))
    }

    pub async fn create_checkout_session(
        &self,
        checkout: NewCheckout<'_>,
    ) -> Result<CheckoutSessionRecord, GatewayError> {
        let strategy = Self::idempotent(checkout.idempotency_key)?;
        let metadata = checkout.owner.metadata();
        let mut line_item = CreateCheckoutSessionLineItems::new();
        line_item.price = Some(checkout.price_id.to_string());
        line_item.quantity = Some(1);
        let mut subscription_data = CreateCheckoutSessionSubscriptionData::new();
        subscription_data.metadata = Some(metadata.clone());
        subscription_data.trial_period_days = checkout.trial_period_days;
        let session = self
            .with_retries("create checkout session", || {
                let request = CreateCheckoutSession::new()
                    .mode(CheckoutSessionMode::Subscription)
                    .customer(checkout.customer_id.as_str())
                    .client_reference_id(checkout.user_id.to_string())
                    .metadata(metadata.clone())
                    .line_items(vec![line_item.clone()])
                    .subscription_data(subscription_data.clone())
                    .allow_promotion_codes(true)
                    .success_url(checkout.success_url)
                    .cancel_url(checkout.cancel_url)
                    .customize()
                    .request_strategy(strategy.clone());
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(checkout_record(&session))
    }

    pub async fn checkout_session(
        &self,
        id: &CheckoutSessionId,
    ) -> Result<CheckoutSessionRecord, GatewayError> {
        let session = self
            .with_retries("retrieve checkout session", || {
                // The rate's name and the code the buyer typed, which the session holds as ids.
                let request = RetrieveCheckoutSession::new(id.as_str()).expand(vec![
                    "shipping_cost.shipping_rate".to_owned(),
                    "discounts.promotion_code".to_owned(),
                ]);
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(checkout_record(&session))
    }

    pub async fn create_portal_session(
        &self,
        customer_id: &CustomerId,
        return_url: &str,
    ) -> Result<String, GatewayError> {
        let session = self
            .with_retries("create portal session", || {
                let request = CreateBillingPortalSession::new()
                    .customer(customer_id.as_str())
                    .return_url(return_url);
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(session.url)
    }
}
