//! `StripeGateway`: the one place that talks to Stripe (or stripe-sim) through async-stripe.
//! Everything else sees the plain types below, so no other module depends on the client's types.

use crate::config::StripeConfig;
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_billing::invoice::ListInvoice;
use stripe_billing::subscription::{ListSubscription, ListSubscriptionStatus};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionSubscriptionData,
    RetrieveCheckoutSession,
};
use stripe_core::customer::{CreateCustomer, SearchCustomer};
use stripe_product::price::{ListPrice, RetrievePrice};
use stripe_product::product::{ListProduct, RetrieveProduct};
use stripe_shared::CheckoutSessionMode;
use stripe_webhook::Webhook;

/// Attempts for one call when Stripe answers 429/5xx or cannot be reached.
const MAX_ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

mod convert;
mod types;

use convert::{checkout_record, event_subject, price_record, product_record};
pub use types::*;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// Stripe could not be reached or kept failing (429/5xx/network) after the retries.
    #[error("Stripe unavailable: {0}")]
    Unavailable(String),
    /// Stripe refused the request (4xx): our request was wrong or refers to something missing.
    #[error("Stripe refused the request ({status}): {message}")]
    Refused {
        status: u16,
        code: Option<String>,
        message: String,
    },
    #[error("unexpected answer from Stripe: {0}")]
    Unexpected(String),
}

impl GatewayError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, GatewayError::Refused { status: 404, .. })
    }
}

fn classify(error: StripeError) -> (bool, GatewayError) {
    match error {
        StripeError::Stripe(api, status) => {
            let message = api.message.clone().unwrap_or_default();
            let code = api.code.as_ref().map(|c| c.as_str().to_owned());
            // 409 is Stripe's "idempotent request still in flight": retrying with the same key is right.
            let retryable = status == 429 || status == 409 || status >= 500;
            let error = if retryable {
                GatewayError::Unavailable(format!("status {status}: {message}"))
            } else {
                GatewayError::Refused {
                    status,
                    code,
                    message,
                }
            };
            (retryable, error)
        }
        StripeError::ClientError(e) => (true, GatewayError::Unavailable(e)),
        StripeError::Timeout => (true, GatewayError::Unavailable("timeout".into())),
        StripeError::JSONDeserialize(e) => (false, GatewayError::Unexpected(e)),
        StripeError::ConfigError(e) => (false, GatewayError::Unexpected(e)),
    }
}

pub struct StripeGateway {
    client: Client,
    webhook_secrets: Vec<String>,
}

impl StripeGateway {
    pub fn new(config: &StripeConfig) -> Result<Self, GatewayError> {
        let client = ClientBuilder::new(config.secret_key.expose_secret())
            .url(config.api_base.as_str().trim_end_matches('/'))
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| GatewayError::Unexpected(e.to_string()))?;
        let webhook_secrets = config
            .webhook_secrets
            .iter()
            .map(|s| s.expose_secret().to_owned())
            .collect();
        Ok(Self {
            client,
            webhook_secrets,
        })
    }

    /// Runs `call` until it succeeds, fails for good, or `MAX_ATTEMPTS` is reached, backing off
    /// exponentially. Writes pass the same idempotency key on every attempt, so a retry after a lost
    /// answer cannot create a second object.
    async fn with_retries<T, F, Fut>(&self, what: &str, mut call: F) -> Result<T, GatewayError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, StripeError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match call().await {
                Ok(value) => return Ok(value),
                Err(error) => {
                    let (retryable, error) = classify(error);
                    if !retryable || attempt >= MAX_ATTEMPTS {
                        tracing::warn!(call = what, attempt, %error, "Stripe call failed");
                        return Err(error);
                    }
                    let backoff = FIRST_BACKOFF * 2u32.pow(attempt - 1);
                    tracing::info!(call = what, attempt, %error, ?backoff, "Stripe call failed; retrying");
                    tokio::time::sleep(backoff).await;
                }
            }
        }
    }

    fn idempotent(key: &str) -> Result<RequestStrategy, GatewayError> {
        IdempotencyKey::new(key)
            .map(RequestStrategy::Idempotent)
            .map_err(|e| GatewayError::Unexpected(e.to_string()))
    }

    // ---- catalog ----

    pub async fn list_catalog(
        &self,
    ) -> Result<(Vec<ProductRecord>, Vec<PriceRecord>), GatewayError> {
        let mut products = Vec::new();
        let mut starting_after: Option<String> = None;
        loop {
            let page = self
                .with_retries("list products", || {
                    let mut request = ListProduct::new().limit(100);
                    if let Some(after) = &starting_after {
                        request = request.starting_after(after.clone());
                    }
                    async move { request.send(&self.client).await }
                })
                .await?;
            starting_after = page.data.last().map(|p| p.id.to_string());
            products.extend(page.data.iter().map(product_record));
            if !page.has_more {
                break;
            }
        }
        let mut prices = Vec::new();
        let mut starting_after: Option<String> = None;
        loop {
            let page = self
                .with_retries("list prices", || {
                    let mut request = ListPrice::new().limit(100);
                    if let Some(after) = &starting_after {
                        request = request.starting_after(after.clone());
                    }
                    async move { request.send(&self.client).await }
                })
                .await?;
            starting_after = page.data.last().map(|p| p.id.to_string());
            prices.extend(page.data.iter().map(price_record));
            if !page.has_more {
                break;
            }
        }
        Ok((products, prices))
    }

    pub async fn product(&self, id: &str) -> Result<ProductRecord, GatewayError> {
        let product = self
            .with_retries("retrieve product", || {
                let request = RetrieveProduct::new(id);
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(product_record(&product))
    }

    pub async fn price(&self, id: &str) -> Result<PriceRecord, GatewayError> {
        let price = self
            .with_retries("retrieve price", || {
                let request = RetrievePrice::new(id);
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(price_record(&price))
    }

    // ---- customers and checkout ----

    /// The customer created for `user_id` earlier, found by its metadata (Stripe's search index lags by
    /// up to a minute, which the idempotency key of `create_customer` covers).
    pub async fn find_customer_for_user(
        &self,
        user_id: i64,
    ) -> Result<Option<String>, GatewayError> {
        let query = format!("metadata['user_id']:'{user_id}'");
        let found = self
            .with_retries("search customers", || {
                let request = SearchCustomer::new(query.clone()).limit(1);
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(found.data.first().map(|c| c.id.to_string()))
    }

    /// Creates the user's customer. The idempotency key is derived from the user id, so concurrent
    /// requests (double clicks, two instances) get the same customer back from Stripe.
    pub async fn create_customer(&self, user_id: i64, email: &str) -> Result<String, GatewayError> {
        let strategy = Self::idempotent(&format!("storefront-customer-{user_id}"))?;
        let metadata = HashMap::from([("user_id".to_owned(), user_id.to_string())]);
        let customer = self
            .with_retries("create customer", || {
                let request = CreateCustomer::new()
                    .email(email)
                    .metadata(metadata.clone())
                    .customize()
                    .request_strategy(strategy.clone());
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(customer.id.to_string())
    }

    pub async fn create_checkout_session(
        &self,
        checkout: NewCheckout<'_>,
    ) -> Result<CheckoutSessionRecord, GatewayError> {
        let strategy = Self::idempotent(checkout.idempotency_key)?;
        let user_id = checkout.user_id.to_string();
        let metadata = HashMap::from([("user_id".to_owned(), user_id.clone())]);
        let mut line_item = CreateCheckoutSessionLineItems::new();
        line_item.price = Some(checkout.price_id.to_owned());
        line_item.quantity = Some(1);
        let mut subscription_data = CreateCheckoutSessionSubscriptionData::new();
        subscription_data.metadata = Some(metadata.clone());
        subscription_data.trial_period_days = checkout.trial_period_days;
        let session = self
            .with_retries("create checkout session", || {
                let request = CreateCheckoutSession::new()
                    .mode(CheckoutSessionMode::Subscription)
                    .customer(checkout.customer_id)
                    .client_reference_id(user_id.clone())
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

    pub async fn checkout_session(&self, id: &str) -> Result<CheckoutSessionRecord, GatewayError> {
        let session = self
            .with_retries("retrieve checkout session", || {
                let request = RetrieveCheckoutSession::new(id);
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(checkout_record(&session))
    }

    pub async fn create_portal_session(
        &self,
        customer_id: &str,
        return_url: &str,
    ) -> Result<String, GatewayError> {
        let session = self
            .with_retries("create portal session", || {
                let request = CreateBillingPortalSession::new()
                    .customer(customer_id)
                    .return_url(return_url);
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(session.url)
    }

    // ---- a customer's billing state ----

    pub async fn customer_billing(
        &self,
        customer_id: &str,
    ) -> Result<CustomerBilling, GatewayError> {
        let mut billing = CustomerBilling::default();
        let mut starting_after: Option<String> = None;
        loop {
            let page = self
                .with_retries("list subscriptions", || {
                    let mut request = ListSubscription::new()
                        .customer(customer_id)
                        .status(ListSubscriptionStatus::All)
                        .limit(100);
                    if let Some(after) = &starting_after {
                        request = request.starting_after(after.clone());
                    }
                    async move { request.send(&self.client).await }
                })
                .await?;
            starting_after = page.data.last().map(|s| s.id.to_string());
            for subscription in &page.data {
                let item = subscription.items.data.first();
                if let Some(item) = item {
                    billing.prices.push(price_record(&item.price));
                }
                billing.subscriptions.push(SubscriptionRecord {
                    id: subscription.id.to_string(),
                    customer_id: subscription.customer.id().to_string(),
                    status: subscription.status.as_str().to_owned(),
                    price_id: item.map(|i| i.price.id.to_string()),
                    product_id: item.map(|i| i.price.product.id().to_string()),
                    quantity: item.and_then(|i| i.quantity).map(|q| q as i64).unwrap_or(1),
                    cancel_at_period_end: subscription.cancel_at_period_end
                        || subscription.cancel_at.is_some(),
                    current_period_end: item.map(|i| i.current_period_end),
                    trial_end: subscription.trial_end,
                    canceled_at: subscription.canceled_at,
                    ended_at: subscription.ended_at,
                    created: subscription.created,
                    livemode: subscription.livemode,
                });
            }
            if !page.has_more {
                break;
            }
        }
        let invoices = self
            .with_retries("list invoices", || {
                let request = ListInvoice::new().customer(customer_id).limit(12);
                async move { request.send(&self.client).await }
            })
            .await?;
        billing.invoices = invoices
            .data
            .iter()
            .filter_map(|invoice| {
                Some(InvoiceRecord {
                    id: invoice.id.as_ref()?.to_string(),
                    subscription_id: invoice.subscription.as_ref().map(|s| s.id().to_string()),
                    status: invoice
                        .status
                        .as_ref()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_else(|| "draft".into()),
                    currency: invoice.currency.to_string(),
                    amount_due: invoice.amount_due,
                    amount_paid: invoice.amount_paid,
                    hosted_invoice_url: invoice.hosted_invoice_url.clone(),
                    created: invoice.created,
                })
            })
            .collect();
        Ok(billing)
    }

    // ---- webhooks ----

    /// Verifies the signature against every configured secret (rotation) and names the event's subject.
    pub fn verify_event(
        &self,
        payload: &str,
        signature: Option<&str>,
    ) -> Result<VerifiedEvent, WebhookRejection> {
        let signature = signature.ok_or(WebhookRejection::MissingSignature)?;
        if self.webhook_secrets.is_empty() {
            return Err(WebhookRejection::NoSecret);
        }
        let mut last_error = WebhookRejection::BadSignature;
        for secret in &self.webhook_secrets {
            match Webhook::construct_event(payload, signature, secret) {
                Ok(event) => {
                    return Ok(VerifiedEvent {
                        id: event.id.to_string(),
                        event_type: event.type_.as_str().to_owned(),
                        created: event.created,
                        livemode: event.livemode,
                        subject: event_subject(&event.data.object),
                    });
                }
                Err(
                    stripe_webhook::WebhookError::BadSignature
                    | stripe_webhook::WebhookError::BadTimestamp(_),
                ) => {}
                Err(other) => last_error = WebhookRejection::BadPayload(other.to_string()),
            }
        }
        Err(last_error)
    }
}
