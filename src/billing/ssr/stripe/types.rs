//! Plain types the gateway hands to the rest of the app, so nothing else depends on async-stripe's.

#[derive(Debug, Clone, PartialEq)]
pub struct ProductRecord {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub active: bool,
    pub role: Option<String>,
    pub features: Vec<String>,
    pub sort_order: i64,
    pub livemode: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PriceRecord {
    pub id: String,
    pub product_id: String,
    pub active: bool,
    /// Lower-case ISO code, as Stripe sends it.
    pub currency: String,
    /// Integer minor units (cents).
    pub unit_amount: Option<i64>,
    pub interval: Option<String>,
    pub interval_count: i64,
    pub trial_period_days: Option<i64>,
    pub lookup_key: Option<String>,
    pub livemode: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionRecord {
    pub id: String,
    pub customer_id: String,
    pub status: String,
    pub price_id: Option<String>,
    pub product_id: Option<String>,
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
    /// The prices the subscriptions use, straight from the subscription items.
    pub prices: Vec<PriceRecord>,
}

#[derive(Debug, Clone)]
pub struct CheckoutSessionRecord {
    pub id: String,
    pub url: Option<String>,
    pub customer_id: Option<String>,
    pub client_reference_id: Option<String>,
    /// open, complete or expired
    pub status: String,
}

pub struct NewCheckout<'a> {
    pub customer_id: &'a str,
    pub price_id: &'a str,
    pub user_id: i64,
    pub trial_period_days: Option<u32>,
    pub success_url: &'a str,
    pub cancel_url: &'a str,
    pub idempotency_key: &'a str,
}

/// What a verified webhook event is about; the handler re-reads the subject from Stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSubject {
    Customer(String),
    Product(String),
    Price(String),
    Other,
}

#[derive(Debug, Clone)]
pub struct VerifiedEvent {
    pub id: String,
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
