//! The sim's in-memory account: every object, the clock, and the event outbox.
//! Objects are stored in creation order; lists render newest first like Stripe.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

pub type Meta = BTreeMap<String, String>;

/// API version the sim's objects and events are shaped for (async-stripe rc.10's pin).
pub const API_VERSION: &str = "2026-09-30.endive";

#[derive(Debug, Clone)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub active: bool,
    pub created: i64,
    pub updated: i64,
    pub metadata: Meta,
    pub marketing_features: Vec<String>,
    pub default_price: Option<String>,
    pub images: Vec<String>,
    pub url: Option<String>,
    pub unit_label: Option<String>,
    pub statement_descriptor: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Recurring {
    pub interval: String,
    pub interval_count: i64,
}

impl Recurring {
    /// Length of one period starting at `from`. Months and years follow the calendar
    /// (clamped to month end) so renewals land on the same day, like Stripe.
    pub fn period_end(&self, from: i64) -> i64 {
        match self.interval.as_str() {
            "day" => from + 86_400 * self.interval_count,
            "week" => from + 7 * 86_400 * self.interval_count,
            "year" => crate::time::add_months(from, 12 * self.interval_count),
            _ => crate::time::add_months(from, self.interval_count),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Price {
    pub id: String,
    pub product: String,
    pub active: bool,
    pub currency: String,
    /// Minor units (cents).
    pub unit_amount: i64,
    pub recurring: Option<Recurring>,
    pub lookup_key: Option<String>,
    pub nickname: Option<String>,
    pub metadata: Meta,
    pub created: i64,
    pub tax_behavior: String,
}

#[derive(Debug, Clone)]
pub struct Customer {
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub metadata: Meta,
    pub created: i64,
    pub default_payment_method: Option<String>,
    pub invoice_prefix: String,
    pub next_invoice_sequence: i64,
    pub currency: Option<String>,
    pub delinquent: bool,
}

/// How a test card behaves (see `billing::card_for_number`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardBehavior {
    Succeed,
    Decline,
    InsufficientFunds,
    /// Needs a 3-D Secure step on the hosted page; charges after that succeed.
    Authenticate,
    /// Succeeds on the first (on-session) charge, declines every off-session renewal.
    FailOffSession,
}

#[derive(Debug, Clone)]
pub struct PaymentMethod {
    pub id: String,
    pub customer: Option<String>,
    pub last4: String,
    pub brand: String,
    pub behavior: CardBehavior,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    Open,
    Complete,
    Expired,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Complete => "complete",
            Self::Expired => "expired",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SessionLine {
    pub id: String,
    pub price: String,
    pub quantity: i64,
}

#[derive(Debug, Clone)]
pub struct CheckoutSession {
    pub id: String,
    pub mode: String,
    pub status: SessionStatus,
    pub payment_status: &'static str,
    pub customer: Option<String>,
    pub customer_email: Option<String>,
    pub customer_creation: Option<String>,
    pub client_reference_id: Option<String>,
    pub metadata: Meta,
    pub lines: Vec<SessionLine>,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub allow_promotion_codes: Option<bool>,
    pub trial_period_days: Option<i64>,
    pub subscription_metadata: Meta,
    pub subscription_description: Option<String>,
    pub subscription: Option<String>,
    pub invoice: Option<String>,
    pub payment_intent: Option<String>,
    pub created: i64,
    pub expires_at: i64,
    pub currency: String,
    pub amount_subtotal: i64,
    pub amount_total: i64,
    pub locale: Option<String>,
    /// E-mail entered on the hosted page (shown as `customer_details.email`).
    pub collected_email: Option<String>,
    /// A card waiting for the 3-D Secure step.
    pub pending_payment_method: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubStatus {
    Trialing,
    Active,
    PastDue,
    Canceled,
    Incomplete,
    IncompleteExpired,
    Unpaid,
}

impl SubStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trialing => "trialing",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Canceled => "canceled",
            Self::Incomplete => "incomplete",
            Self::IncompleteExpired => "incomplete_expired",
            Self::Unpaid => "unpaid",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Trialing,
            Self::Active,
            Self::PastDue,
            Self::Canceled,
            Self::Incomplete,
            Self::IncompleteExpired,
            Self::Unpaid,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
    pub fn is_live(self) -> bool {
        !matches!(self, Self::Canceled | Self::IncompleteExpired)
    }
}

#[derive(Debug, Clone)]
pub struct SubItem {
    pub id: String,
    pub price: String,
    pub quantity: i64,
    pub created: i64,
    pub metadata: Meta,
}

#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: String,
    pub customer: String,
    pub status: SubStatus,
    pub items: Vec<SubItem>,
    pub current_period_start: i64,
    pub current_period_end: i64,
    pub cancel_at_period_end: bool,
    pub cancel_at: Option<i64>,
    pub canceled_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub created: i64,
    pub start_date: i64,
    pub billing_cycle_anchor: i64,
    pub trial_start: Option<i64>,
    pub trial_end: Option<i64>,
    pub latest_invoice: Option<String>,
    pub default_payment_method: Option<String>,
    pub metadata: Meta,
    pub currency: String,
    pub description: Option<String>,
    pub cancellation_reason: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceStatus {
    Draft,
    Open,
    Paid,
}

impl InvoiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Open => "open",
            Self::Paid => "paid",
        }
    }
}

#[derive(Debug, Clone)]
pub struct InvoiceLine {
    pub id: String,
    pub amount: i64,
    pub description: String,
    pub price: Option<String>,
    pub quantity: i64,
    pub period_start: i64,
    pub period_end: i64,
    pub proration: bool,
    pub subscription_item: Option<String>,
    pub invoice_item: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Invoice {
    pub id: String,
    pub number: Option<String>,
    pub customer: String,
    pub subscription: Option<String>,
    pub status: InvoiceStatus,
    pub lines: Vec<InvoiceLine>,
    pub currency: String,
    pub created: i64,
    pub period_start: i64,
    pub period_end: i64,
    pub billing_reason: &'static str,
    pub amount_paid: i64,
    pub attempt_count: i64,
    pub attempted: bool,
    pub next_payment_attempt: Option<i64>,
    /// When the first automatic charge failed; the retry schedule counts from here.
    pub first_failed_at: Option<i64>,
    pub finalized_at: Option<i64>,
    pub paid_at: Option<i64>,
    pub voided_at: Option<i64>,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
}

impl Invoice {
    pub fn total(&self) -> i64 {
        self.lines.iter().map(|l| l.amount).sum()
    }
}

/// A proration waiting for the subscription's next invoice.
#[derive(Debug, Clone)]
pub struct PendingItem {
    pub id: String,
    pub subscription: String,
    pub amount: i64,
    pub description: String,
    pub price: String,
    pub period_start: i64,
    pub period_end: i64,
}

#[derive(Debug, Clone)]
pub struct PortalSession {
    pub id: String,
    pub customer: String,
    pub return_url: Option<String>,
    pub created: i64,
    pub locale: Option<String>,
    pub flash: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub kind: String,
    pub created: i64,
    pub object: Value,
    pub previous: Option<Value>,
    pub pending_webhooks: i64,
}

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub secret: String,
    pub enabled_events: Vec<String>,
    pub created: i64,
    pub description: Option<String>,
    pub metadata: Meta,
    pub enabled: bool,
}

impl Endpoint {
    pub fn wants(&self, kind: &str) -> bool {
        self.enabled && self.enabled_events.iter().any(|e| e == "*" || e == kind)
    }
}

/// One webhook delivery attempt, kept for the admin API and tests.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub event_id: String,
    pub event_type: String,
    pub endpoint_id: String,
    pub url: String,
    pub attempt: u32,
    pub status: Option<u16>,
    pub ok: bool,
    pub error: Option<String>,
    /// The failure was injected by a fault switch; nothing was sent.
    pub injected: bool,
    /// Wall-clock time of the attempt, unix milliseconds.
    pub at_ms: u128,
}

/// Work for the webhook dispatcher.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    /// A new event, for every endpoint that wants its type.
    Event(String),
    /// An existing event for one endpoint only (seed catalog replay).
    To { event: String, endpoint: String },
}

#[derive(Debug, Default)]
pub struct State {
    pub now: i64,
    seq: u64,
    pub base_url: String,
    pub products: Vec<Product>,
    pub prices: Vec<Price>,
    pub customers: Vec<Customer>,
    pub payment_methods: Vec<PaymentMethod>,
    pub sessions: Vec<CheckoutSession>,
    pub subscriptions: Vec<Subscription>,
    pub invoices: Vec<Invoice>,
    pub pending_items: Vec<PendingItem>,
    pub portal_sessions: Vec<PortalSession>,
    pub events: Vec<Event>,
    pub endpoints: Vec<Endpoint>,
    pub deliveries: Vec<Delivery>,
    /// Deliveries requested by the current operation, handed to the dispatcher afterwards.
    pub outbox: Vec<Outgoing>,
    /// `product.created`/`price.created` events of the seed catalog, replayed to new endpoints.
    pub seed_events: Vec<String>,
}

/// Mixes the counter so ids look like Stripe's but stay deterministic for a run.
fn encode_id(n: u64) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const SPACE: u128 = 62u128.pow(14);
    // Multiplying by a constant coprime to 62 (odd, not a multiple of 31) permutes
    // 0..62^14, so ids never collide; the golden-ratio constant spreads consecutive ids.
    // (The product fits in u128 while the counter stays below 4e13.)
    const MIX: u128 = 7_664_715_030_639_136_607_305_729;
    let mut x = (u128::from(n) % SPACE * MIX + 0x5eed) % SPACE;
    let mut out = [b'0'; 14];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(x % 62) as usize];
        x /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl State {
    pub fn new(now: i64, base_url: String) -> Self {
        Self {
            now,
            base_url,
            ..Self::default()
        }
    }

    pub fn id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}_{}", encode_id(self.seq))
    }

    pub fn product(&self, id: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }
    pub fn price(&self, id: &str) -> Option<&Price> {
        self.prices.iter().find(|p| p.id == id)
    }
    pub fn customer(&self, id: &str) -> Option<&Customer> {
        self.customers.iter().find(|c| c.id == id)
    }
    pub fn customer_mut(&mut self, id: &str) -> Option<&mut Customer> {
        self.customers.iter_mut().find(|c| c.id == id)
    }
    pub fn session(&self, id: &str) -> Option<&CheckoutSession> {
        self.sessions.iter().find(|s| s.id == id)
    }
    pub fn session_mut(&mut self, id: &str) -> Option<&mut CheckoutSession> {
        self.sessions.iter_mut().find(|s| s.id == id)
    }
    pub fn subscription(&self, id: &str) -> Option<&Subscription> {
        self.subscriptions.iter().find(|s| s.id == id)
    }
    pub fn subscription_mut(&mut self, id: &str) -> Option<&mut Subscription> {
        self.subscriptions.iter_mut().find(|s| s.id == id)
    }
    pub fn invoice(&self, id: &str) -> Option<&Invoice> {
        self.invoices.iter().find(|i| i.id == id)
    }
    pub fn invoice_mut(&mut self, id: &str) -> Option<&mut Invoice> {
        self.invoices.iter_mut().find(|i| i.id == id)
    }
    pub fn payment_method(&self, id: &str) -> Option<&PaymentMethod> {
        self.payment_methods.iter().find(|p| p.id == id)
    }
    pub fn portal_session(&self, id: &str) -> Option<&PortalSession> {
        self.portal_sessions.iter().find(|p| p.id == id)
    }
    pub fn event(&self, id: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.id == id)
    }

    /// Records an event with a snapshot of `object` and queues it for delivery.
    pub fn emit(&mut self, kind: &str, object: Value, previous: Option<Value>) -> String {
        let id = self.id("evt");
        let pending = self.endpoints.iter().filter(|e| e.wants(kind)).count();
        self.events.push(Event {
            id: id.clone(),
            kind: kind.to_owned(),
            created: self.now,
            object,
            previous,
            pending_webhooks: i64::try_from(pending).unwrap_or(0),
        });
        self.outbox.push(Outgoing::Event(id.clone()));
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_prefixed_and_fixed_width() {
        let mut s = State::new(0, String::new());
        let a = s.id("cus");
        let b = s.id("cus");
        assert_ne!(a, b);
        assert!(a.starts_with("cus_"));
        assert_eq!(a.len(), 4 + 14);
    }
}
