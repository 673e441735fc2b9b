//! What the account's changes ask of Stripe (issue 21): a changed address carried to the customer,
//! and an erased account's subscriptions cancelled at once and its customer deleted.

use super::{GatewayError, StripeGateway};
use crate::domain::{CustomerId, Email};
use stripe_billing::subscription::CancelSubscription;
use stripe_core::customer::{DeleteCustomer, UpdateCustomer};

impl StripeGateway {
    /// Stripe mails its own receipts and invoices to the customer's address: it follows ours.
    pub async fn update_customer_email(
        &self,
        id: &CustomerId,
        email: &Email,
    ) -> Result<(), GatewayError> {
        self.with_retries("update customer e-mail", || {
            let request = UpdateCustomer::new(id.as_str()).email(email.as_str());
            async move { request.send(&self.client).await }
        })
        .await?;
        Ok(())
    }

    /// Ends a subscription now, not at the period's end (no proration credit, no final invoice).
    pub async fn cancel_subscription_now(&self, id: &str) -> Result<(), GatewayError> {
        self.with_retries("cancel subscription", || {
            let request = CancelSubscription::new(id);
            async move { request.send(&self.client).await }
        })
        .await?;
        Ok(())
    }

    /// Deletes the customer at Stripe: its address and saved cards go; its payments and invoices
    /// stay in Stripe's records, which Stripe keeps for its own obligations.
    pub async fn delete_customer(&self, id: &CustomerId) -> Result<(), GatewayError> {
        self.with_retries("delete customer", || {
            let request = DeleteCustomer::new(id.as_str());
            async move { request.send(&self.client).await }
        })
        .await?;
        Ok(())
    }
}
