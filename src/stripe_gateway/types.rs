//! Plain types the gateway hands to the rest of the app, so nothing else depends on async-stripe's.

use crate::domain::{
    CheckoutSessionId, CustomerId, EventId, PriceId, ProductId, SubscriptionStatus, UserId,
};

#[derive(Debug, Clone, PartialEq)]
pub struct ProductRecord {
    pub id: ProductId,
    pub name: String,
    pub description: Option<String>,
    pub active: bool,
    /// The product's `role` metadata as Stripe holds it; the catalog decides what it grants.
    pub role: Option<String>,
    pub features: Vec<String>,
    pub sort_order: i64,
    pub livemode: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PriceRecord {
    pub id: PriceId,
    pub product_id: ProductId,
    pub active: bool,
    /// Lower-case ISO code, as Stripe sends it.
    pub currency: String,
    /// Integer minor units (cents).
    pub unit_amount: Option<i64>,
    /// `day`, `week`, `month` or `year` for recurring prices; the catalog sells month and year.
    pub interval: Option<String>,
    pub interval_count: i64,
    pub trial_period_days: Option<i64>,
    pub lookup_key: Option<String>,
    pub livemode: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionRecord {
    pub id: String,
    pub customer_id: CustomerId,
    pub status: SubscriptionStatus,
    /// One per item; a plan usually has one, an add-on adds another.
    pub price_ids: Vec<PriceId>,
    pub quantity: i64,
    pub cancel_at_period_end: bool,
    pub current_period_end: Option<i64>,
    pub trial_end: Option<i64>,
    pub canceled_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub created: i64,
    pub livemode: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceRecord {
    pub id: String,
    pub subscription_id: Option<String>,
    pub status: String,
    pub currency: String,
    pub amount_due: i64,
    pub amount_paid: i64,
    pub hosted_invoice_url: Option<String>,
    pub created: i64,
}

/// Everything Stripe holds about one customer's billing, read in one go by `sync_customer`.
#[derive(Debug, Clone, Default)]
pub struct CustomerBilling {
    pub subscriptions: Vec<SubscriptionRecord>,
    pub invoices: Vec<InvoiceRecord>,
    /// The prices of every subscription item, straight from the items.
    pub prices: Vec<PriceRecord>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutSessionStatus {
    Open,
    Complete,
    Expired,
}

#[derive(Debug, Clone)]
pub struct CheckoutSessionRecord {
    pub id: CheckoutSessionId,
    pub url: Option<String>,
    pub customer_id: Option<CustomerId>,
    pub client_reference_id: Option<String>,
    pub status: CheckoutSessionStatus,
}

pub struct NewCheckout<'a> {
    pub customer_id: &'a CustomerId,
    pub price_id: &'a PriceId,
    pub user_id: UserId,
    pub trial_period_days: Option<u32>,
    pub success_url: &'a str,
    pub cancel_url: &'a str,
    pub idempotency_key: &'a str,
}

/// What a verified webhook event is about; the handler re-reads the subject from Stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSubject {
    Customer(CustomerId),
    Product(ProductId),
    Price(PriceId),
    Other,
}

#[derive(Debug, Clone)]
pub struct VerifiedEvent {
    pub id: EventId,
    pub event_type: String,
    pub created: i64,
    pub livemode: bool,
    pub subject: EventSubject,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookRejection {
    #[error("missing Stripe-Signature header")]
    MissingSignature,
    #[error("no configured webhook secret")]
    NoSecret,
    #[error("signature does not match any webhook secret, or timestamp outside tolerance")]
    BadSignature,
    #[error("payload is not a Stripe event: {0}")]
    BadPayload(String),
}
