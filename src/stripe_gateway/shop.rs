//! The shop's Stripe calls: a Checkout Session in `payment` mode for a cart, a PaymentIntent for
//! paying on our own page, and reading (or abandoning) an order's PaymentIntent.

use super::convert::{checkout_record, order_intent_record, payment_record};
use super::{
    CheckoutSessionRecord, GatewayError, NewOrderCheckout, NewOrderIntent, ORDER_METADATA_KEY,
    OrderIntentRecord, PaymentRecord, ShippingOffer, StripeGateway,
};
use std::collections::HashMap;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionAllowedPaymentMethodTypes,
    CreateCheckoutSessionAutomaticTax, CreateCheckoutSessionCustomerCreation,
    CreateCheckoutSessionCustomerUpdate, CreateCheckoutSessionCustomerUpdateAddress,
    CreateCheckoutSessionCustomerUpdateShipping, CreateCheckoutSessionLineItems,
    CreateCheckoutSessionPaymentIntentData, CreateCheckoutSessionShippingAddressCollection,
    CreateCheckoutSessionShippingOptions, ExpireCheckoutSession,
};
use stripe_client_core::StripeRequest;
use stripe_core::payment_intent::{
    AsyncWorkflowsInputsParam, AsyncWorkflowsInputsTaxParam, AsyncWorkflowsParam,
    CancelPaymentIntent, CancelPaymentIntentCancellationReason, CreatePaymentIntent,
    CreatePaymentIntentAutomaticPaymentMethods, CreatePaymentIntentShipping,
    CreatePaymentIntentShippingAddress, RetrievePaymentIntent,
};
use stripe_shared::CheckoutSessionMode;

/// `shipping_address_collection` and `shipping_options` (each rate sent inline, in the order's
/// currency, with its delivery estimate).
fn shipping_params(
    offer: &ShippingOffer<'_>,
) -> (
    CreateCheckoutSessionShippingAddressCollection,
    Vec<CreateCheckoutSessionShippingOptions>,
) {
    use stripe_checkout::checkout_session::{
        CreateCheckoutSessionShippingAddressCollectionAllowedCountries as Country,
        CreateCheckoutSessionShippingOptionsShippingRateData as RateData,
        CreateCheckoutSessionShippingOptionsShippingRateDataDeliveryEstimate as Estimate,
        CreateCheckoutSessionShippingOptionsShippingRateDataDeliveryEstimateMaximum as Max,
        CreateCheckoutSessionShippingOptionsShippingRateDataDeliveryEstimateMaximumUnit as MaxUnit,
        CreateCheckoutSessionShippingOptionsShippingRateDataDeliveryEstimateMinimum as Min,
        CreateCheckoutSessionShippingOptionsShippingRateDataDeliveryEstimateMinimumUnit as MinUnit,
        CreateCheckoutSessionShippingOptionsShippingRateDataFixedAmount as Fixed,
    };
    let countries: Vec<Country> = offer
        .countries
        .iter()
        .map(|c| {
            c.as_str()
                .parse::<Country>()
                .unwrap_or_else(|never| match never {})
        })
        .collect();
    let options = offer
        .rates
        .iter()
        .filter_map(|(rate, amount)| {
            let currency = rate
                .amount
                .currency
                .parse::<stripe_types::Currency>()
                .ok()?;
            let mut data = RateData::new(rate.name.as_str());
            data.fixed_amount = Some(Fixed::new(*amount, currency));
            data.delivery_estimate = rate.delivery.map(|d| {
                let mut estimate = Estimate::new();
                estimate.minimum = Some(Min::new(MinUnit::BusinessDay, i64::from(d.min_days)));
                estimate.maximum = Some(Max::new(MaxUnit::BusinessDay, i64::from(d.max_days)));
                estimate
            });
            let mut option = CreateCheckoutSessionShippingOptions::new();
            option.shipping_rate_data = Some(data);
            Some(option)
        })
        .collect();
    (
        CreateCheckoutSessionShippingAddressCollection::new(countries),
        options,
    )
}

/// The intent's `shipping`: the recipient and the address, as Stripe copies them to the charge.
fn intent_shipping(to: &crate::domain::ShippingAddress) -> CreatePaymentIntentShipping {
    let mut address = CreatePaymentIntentShippingAddress::new();
    address.line1 = Some(to.line1.clone());
    address.line2 = to.line2.clone();
    address.city = Some(to.city.clone());
    address.state = to.state.clone();
    address.postal_code = Some(to.postal_code.clone());
    address.country = Some(to.country.clone());
    CreatePaymentIntentShipping::new(address, to.name.as_str())
}

/// `hooks[inputs][tax][calculation]`: Stripe records the tax when the intent succeeds.
fn tax_hook(calculation: &str) -> AsyncWorkflowsParam {
    let mut inputs = AsyncWorkflowsInputsParam::new();
    inputs.tax = Some(AsyncWorkflowsInputsTaxParam::new(calculation));
    let mut hooks = AsyncWorkflowsParam::new();
    hooks.inputs = Some(inputs);
    hooks
}

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
        let shipping = checkout.shipping.as_ref().map(shipping_params);
        let session = self
            .with_retries("create order checkout session", || {
                let request = CreateCheckoutSession::new().mode(CheckoutSessionMode::Payment);
                let request = match checkout.customer_id {
                    Some(customer) => request.customer(customer.as_str()),
                    // A guest: Stripe makes the customer from the e-mail entered, for receipts
                    // and refunds.
                    None => {
                        request.customer_creation(CreateCheckoutSessionCustomerCreation::Always)
                    }
                };
                let request = request
                    .client_reference_id(checkout.order_id.to_string())
                    .metadata(metadata.clone())
                    .line_items(line_items.clone())
                    .payment_intent_data(intent_data.clone())
                    // Cards only: a debit or voucher that settles days later would hold the stock
                    // past the reservation (docs/RELIABILITY.md, security review 2, H2).
                    .allowed_payment_method_types(vec![
                        CreateCheckoutSessionAllowedPaymentMethodTypes::Card,
                    ])
                    .expires_at(checkout.expires_at)
                    .success_url(checkout.success_url)
                    .cancel_url(checkout.cancel_url)
                    .allow_promotion_codes(true);
                let request = match &shipping {
                    Some((countries, options)) => request
                        .shipping_address_collection(countries.clone())
                        .shipping_options(options.clone()),
                    None => request,
                };
                let request = if checkout.automatic_tax && checkout.customer_id.is_none() {
                    request.automatic_tax(CreateCheckoutSessionAutomaticTax::new(true))
                } else if checkout.automatic_tax {
                    // Stripe taxes by the customer's address: Checkout saves the one it collects.
                    let mut update = CreateCheckoutSessionCustomerUpdate::new();
                    update.address = Some(CreateCheckoutSessionCustomerUpdateAddress::Auto);
                    if shipping.is_some() {
                        update.shipping = Some(CreateCheckoutSessionCustomerUpdateShipping::Auto);
                    }
                    request
                        .automatic_tax(CreateCheckoutSessionAutomaticTax::new(true))
                        .customer_update(update)
                } else {
                    request
                };
                let request = request.customize().request_strategy(strategy.clone());
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

    /// The PaymentIntent of one order paid on our own page: amount and currency from our catalog,
    /// the order in its metadata (both our tag and the plain id, for people reading the dashboard),
    /// and the order's idempotency key, so a retry after a lost answer gets the same intent.
    pub async fn create_order_intent(
        &self,
        intent: NewOrderIntent<'_>,
    ) -> Result<OrderIntentRecord, GatewayError> {
        let strategy = Self::idempotent(intent.idempotency_key)?;
        let currency: stripe_types::Currency = intent
            .currency
            .parse()
            .map_err(|_| GatewayError::Unexpected(format!("currency {}", intent.currency)))?;
        let metadata = HashMap::from([
            (ORDER_METADATA_KEY.to_owned(), intent.order_tag.to_owned()),
            ("order_id".to_owned(), intent.order_id.to_string()),
        ]);
        let created = self
            .with_retries("create order payment intent", || {
                let request = CreatePaymentIntent::new(intent.amount, currency.clone())
                    .customer(intent.customer_id.as_str())
                    .automatic_payment_methods(CreatePaymentIntentAutomaticPaymentMethods::new(
                        true,
                    ))
                    // Cards only, as on Checkout: our page has a card field, and no client may
                    // confirm the intent with a method that settles days later.
                    .allowed_payment_method_types(vec![
                        stripe_shared::PaymentIntentAllowedPaymentMethodTypes::Card,
                    ])
                    .metadata(metadata.clone())
                    .description(intent.description);
                let request = match intent.shipping {
                    Some(to) => request.shipping(intent_shipping(to)),
                    None => request,
                };
                let request = match intent.tax_calculation {
                    Some(calculation) => request.hooks(tax_hook(calculation)),
                    None => request,
                };
                let request = request.customize().request_strategy(strategy.clone());
                async move { request.send(&self.client).await }
            })
            .await?;
        order_intent_record(&created)
            .ok_or_else(|| GatewayError::Unexpected("payment intent without client_secret".into()))
    }

    /// An order's PaymentIntent with its client secret, to hand the same one to the browser again.
    pub async fn order_intent(&self, id: &str) -> Result<OrderIntentRecord, GatewayError> {
        let intent = self
            .with_retries("retrieve order payment intent", || {
                let request = RetrievePaymentIntent::new(id);
                async move { request.send(&self.client).await }
            })
            .await?;
        order_intent_record(&intent)
            .ok_or_else(|| GatewayError::Unexpected("payment intent without client_secret".into()))
    }

    /// Gives up an unpaid intent (`abandoned`). Stripe refuses when it has succeeded or is
    /// processing meanwhile; the caller then reads it and follows what happened.
    pub async fn cancel_intent(&self, id: &str) -> Result<(), GatewayError> {
        self.with_retries("cancel payment intent", || {
            let request = CancelPaymentIntent::new(id)
                .cancellation_reason(CancelPaymentIntentCancellationReason::Abandoned);
            async move { request.send(&self.client).await }
        })
        .await?;
        Ok(())
    }

    /// Ends an open Checkout Session, so it can no longer be paid. Stripe refuses one that is
    /// complete (paid meanwhile); the caller then reads it and follows what happened.
    pub async fn expire_checkout_session(&self, id: &str) -> Result<(), GatewayError> {
        self.with_retries("expire checkout session", || {
            let request = ExpireCheckoutSession::new(id);
            async move { request.send(&self.client).await }
        })
        .await?;
        Ok(())
    }
}
