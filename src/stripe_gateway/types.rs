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
    /// Goods for the shop (metadata `kind=goods`), with what the shop shows and the stock to
    /// start from; `None` for plans.
    pub goods: Option<GoodsMetadata>,
}

/// The shop's metadata of a product sold as goods, as Stripe holds it (checked by the catalog).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoodsMetadata {
    /// `slug`, else made from the name.
    pub slug: Option<String>,
    /// `image`: a path on our site (`/goods/mug.svg`), else the product's first image URL.
    pub image: Option<String>,
    /// `stock`: units on hand when the product is first copied; later changes are ours.
    pub initial_stock: Option<i64>,
    /// `shippable=true`: sent by post, so Checkout collects an address and offers rates.
    pub shippable: bool,
    /// `option_name`: what the options are ("Size"), for a good sold in several.
    pub option_name: Option<String>,
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
    /// `metadata.option`: the option of a good this price sells ("M").
    pub option: Option<String>,
    /// `metadata.sort_order`: where the option is listed.
    pub sort_order: i64,
    /// `metadata.stock`: the option's units when the price is first copied.
    pub initial_stock: Option<i64>,
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
    pub current_period_start: Option<i64>,
    pub current_period_end: Option<i64>,
    pub trial_end: Option<i64>,
    pub canceled_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub created: i64,
    pub livemode: bool,
    /// Runs on a Stripe test clock: its events carry simulated, not real, timestamps.
    pub on_test_clock: bool,
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
    /// Payment attempts so far: an open invoice with attempts has failed to charge.
    pub attempt_count: i64,
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

/// Whether a Checkout Session's money arrived: `Unpaid` for a delayed method (bank debit) until it
/// settles, or for good when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    Paid,
    Unpaid,
    NoPaymentRequired,
}

#[derive(Debug, Clone)]
pub struct CheckoutSessionRecord {
    pub id: CheckoutSessionId,
    pub url: Option<String>,
    pub customer_id: Option<CustomerId>,
    pub client_reference_id: Option<String>,
    pub status: CheckoutSessionStatus,
    pub payment_status: PaymentStatus,
    pub payment_intent_id: Option<String>,
    pub expires_at: i64,
    /// `metadata[storefront_order]`, on the shop's sessions.
    pub order_tag: Option<String>,
    /// The amounts as Stripe states them (shop sessions in `payment` mode).
    pub totals: Option<SessionTotals>,
    /// The address and rate the buyer chose, once Checkout collected them.
    pub shipping: Option<CollectedShipping>,
    /// The promotion code the buyer entered, as they typed it.
    pub promotion_code: Option<String>,
    /// `customer_details.email`: what the buyer entered (a guest's only contact).
    pub customer_email: Option<String>,
}

/// A Checkout Session's money, in minor units of its currency, as Stripe computed it:
/// `amount_subtotal`, `total_details.amount_discount|amount_shipping|amount_tax`, `amount_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTotals {
    pub subtotal: i64,
    pub discount: i64,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
}

/// Where Checkout will ship an order, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectedShipping {
    pub address: crate::domain::ShippingAddress,
    /// The chosen rate's display name.
    pub rate: Option<String>,
    /// Its delivery estimate, written out ("3-5 business days").
    pub delivery: Option<String>,
}

/// Where a PaymentIntent is, in the terms the shop needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntentState {
    Succeeded,
    /// Settling (a bank debit), or waiting for the customer.
    InProgress,
    /// The last attempt failed (declined, authentication failed); the intent waits for another
    /// payment method. Final for a Checkout Session; on our own page the buyer may try again.
    AttemptFailed,
    /// Canceled: no money will ever come from it.
    Canceled,
}

/// A PaymentIntent with its latest charge, read for an order.
#[derive(Debug, Clone)]
pub struct PaymentRecord {
    pub id: String,
    pub state: IntentState,
    pub amount_received: i64,
    /// The intent's currency, lower case (`usd`).
    pub currency: String,
    /// `metadata[storefront_order]`.
    pub order_tag: Option<String>,
    /// Of the latest charge: what was refunded of it, and Stripe's receipt page.
    pub amount_refunded: i64,
    pub receipt_url: Option<String>,
}

/// A PaymentIntent the browser confirms on our own page: what it needs to do so.
#[derive(Debug, Clone)]
pub struct OrderIntentRecord {
    pub id: String,
    /// Lets the browser confirm this one intent with the publishable key; never logged.
    pub client_secret: String,
    pub state: IntentState,
    pub amount: i64,
    pub currency: String,
}

/// A PaymentIntent for one order, paid on our own page.
pub struct NewOrderIntent<'a> {
    pub customer_id: &'a CustomerId,
    /// Minor units and currency, from our catalog.
    pub amount: i64,
    pub currency: &'a str,
    pub order_id: i64,
    /// Goes into `metadata[storefront_order]`.
    pub order_tag: &'a str,
    pub description: &'a str,
    pub idempotency_key: &'a str,
    /// Where the goods go (the intent's `shipping`).
    pub shipping: Option<&'a crate::domain::ShippingAddress>,
    /// The Tax Calculation whose total `amount` is (`hooks[inputs][tax][calculation]`).
    pub tax_calculation: Option<&'a str>,
}

/// A Checkout Session in `payment` mode for the shop's cart.
pub struct NewOrderCheckout<'a> {
    /// `None` for a guest: Checkout asks for the e-mail and always makes a customer.
    pub customer_id: Option<&'a CustomerId>,
    /// Price and quantity per line.
    pub lines: &'a [(PriceId, i64)],
    pub order_id: i64,
    /// Goes into `metadata[storefront_order]` of the session and its PaymentIntent.
    pub order_tag: &'a str,
    pub success_url: &'a str,
    pub cancel_url: &'a str,
    pub expires_at: i64,
    pub idempotency_key: &'a str,
    /// Goods sent by post: where to, and the rates offered.
    pub shipping: Option<ShippingOffer<'a>>,
    /// `STRIPE_TAX=on`: Stripe Tax computes the tax from the address.
    pub automatic_tax: bool,
}

/// What Checkout offers to ship an order: the countries, and each rate with its amount for this
/// order (a rate free above a subtotal is offered at 0).
#[derive(Debug, Clone)]
pub struct ShippingOffer<'a> {
    pub countries: &'a [crate::domain::Country],
    pub rates: Vec<(&'a crate::domain::ShippingRate, i64)>,
}

/// The metadata key naming our order on Checkout Sessions, PaymentIntents and charges: the
/// installation id and the order id, so another system's `order_id` on the same account never matches.
pub const ORDER_METADATA_KEY: &str = "storefront_order";

pub struct NewCheckout<'a> {
    pub customer_id: &'a CustomerId,
    pub price_id: &'a PriceId,
    pub user_id: UserId,
    pub owner: &'a CustomerOwner,
    pub trial_period_days: Option<u32>,
    pub success_url: &'a str,
    pub cancel_url: &'a str,
    pub idempotency_key: &'a str,
}

/// Who a Stripe customer belongs to, as written in its metadata (security review M5): this
/// installation (an id generated once per database) and one of its users, named by id and sign-up
/// time, so that another system on the same Stripe account, or a restored database that gives the
/// id to someone new, never matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerOwner {
    pub installation: String,
    pub user: String,
    /// The user's billing generation when the customer is created: part of the idempotency key, so
    /// that after a customer was deleted in Stripe (and unbound, which bumps it) a new one is made
    /// instead of Stripe replaying the deleted one.
    pub generation: i64,
}

impl CustomerOwner {
    pub fn new(installation: &str, user_id: UserId, user_created_at: i64, generation: i64) -> Self {
        Self {
            installation: installation.to_owned(),
            user: format!("{user_id}-{user_created_at}"),
            generation,
        }
    }

    /// One metadata key, `storefront_owner` = `<installation>:<user>`. One key, because async-stripe
    /// sends metadata from a HashMap in no fixed order, and Stripe refuses an idempotent retry whose
    /// parameters differ.
    pub fn metadata(&self) -> std::collections::HashMap<String, String> {
        std::collections::HashMap::from([(OWNER_METADATA_KEY.to_owned(), self.tag())])
    }

    pub fn tag(&self) -> String {
        format!("{}:{}", self.installation, self.user)
    }
}

pub const OWNER_METADATA_KEY: &str = "storefront_owner";

/// What a payment event without our metadata names (security review 2, L8: most such events, such
/// as a subscription's renewal, are not an order's, and must cost no Stripe read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentSubject {
    pub payment_intent_id: String,
    pub kind: PaymentObject,
    /// The charge's customer, if it names one.
    pub customer: Option<CustomerId>,
}

/// Which object of a payment an event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentObject {
    /// The PaymentIntent itself: its metadata is in the event, so without our tag it is not ours.
    Intent,
    Charge,
    Refund,
}

/// What a verified webhook event is about; the handler re-reads the subject from Stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSubject {
    /// A shop order, named by the object's `metadata[storefront_order]`.
    Order(String),
    /// A charge, refund or PaymentIntent without our metadata: the order is found by its
    /// PaymentIntent, if we stored it.
    Payment(PaymentSubject),
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
    /// The id of the event's object (`data.object.id`), e.g. the subscription of
    /// `customer.subscription.trial_will_end`.
    pub object_id: Option<String>,
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
