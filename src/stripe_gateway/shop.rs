//! The shop's Stripe calls: a Checkout Session in `payment` mode for a cart, and the PaymentIntent
//! behind a paid session.

use super::convert::{checkout_record, payment_record};
use super::{
    CheckoutSessionRecord, GatewayError, NewOrderCheckout, ORDER_METADATA_KEY, PaymentRecord,
    StripeGateway,
};
use std::collections::HashMap;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionPaymentIntentData,
};
use stripe_client_core::StripeRequest;
use stripe_core::payment_intent::RetrievePaymentIntent;
use stripe_shared::CheckoutSessionMode;

impl StripeGateway {
    /// The Checkout Session of one order. Its idempotency key is the order's, so a retry after a
    /// lost answer gets the same session back. One metadata key (see `CustomerOwner::metadata`).
    pub async fn create_order_checkout(
        &self,
        checkout: NewOrderCheckout<'_>,
    ) -> Result<CheckoutSessionRecord, GatewayError> {
        let strategy = Self::idempotent(checkout.idempotency_key)?;
        let metadata =
            HashMap::from([(ORDER_METADATA_KEY.to_owned(), checkout.order_tag.to_owned())]);
        let line_items: Vec<CreateCheckoutSessionLineItems> = checkout
            .lines
            .iter()
            .map(|(price, quantity)| {
                let mut line = CreateCheckoutSessionLineItems::new();
                line.price = Some(price.to_string());
                line.quantity = u64::try_from(*quantity).ok();
                line
            })
            .collect();
        let mut intent_data = CreateCheckoutSessionPaymentIntentData::new();
        intent_data.metadata = Some(metadata.clone());
        let session = self
            .with_retries("create order checkout session", || {
                let request = CreateCheckoutSession::new()
                    .mode(CheckoutSessionMode::Payment)
                    .customer(checkout.customer_id.as_str())
                    .client_reference_id(checkout.order_id.to_string())
                    .metadata(metadata.clone())
                    .line_items(line_items.clone())
                    .payment_intent_data(intent_data.clone())
                    .expires_at(checkout.expires_at)
                    .success_url(checkout.success_url)
                    .cancel_url(checkout.cancel_url)
                    .customize()
                    .request_strategy(strategy.clone());
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(checkout_record(&session))
    }

    /// A PaymentIntent with its latest charge (refunds, receipt).
    pub async fn payment(&self, id: &str) -> Result<PaymentRecord, GatewayError> {
        let intent = self
            .with_retries("retrieve payment intent", || {
                let request =
                    RetrievePaymentIntent::new(id).expand(vec!["latest_charge".to_owned()]);
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(payment_record(&intent))
    }
}
