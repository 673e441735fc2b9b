//! The sim's in-memory account: every object, the clock, and the event outbox.
//! Objects are stored in creation order; lists render newest first like Stripe.

use serde_json::Value;

use crate::model::{
    Account, Charge, CheckoutSession, Coupon, Customer, Delivery, Endpoint, Event, Invoice,
    Outgoing, PaymentIntent, PaymentMethod, PendingItem, PortalSession, Price, Product,
    PromotionCode, Refund, ShippingRate, Subscription, TaxCalculation,
};

/// Everything the sim knows, behind one lock (`Shared::with` / `Shared::read`).
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) now: i64,
    seq: u64,
    pub(crate) base_url: String,
    pub(crate) account: Account,
    pub(crate) products: Vec<Product>,
    pub(crate) prices: Vec<Price>,
    pub(crate) customers: Vec<Customer>,
    /// Ids of deleted customers: Stripe still answers them, as `{"deleted": true}` stubs.
    pub(crate) deleted_customers: Vec<String>,
    pub(crate) payment_methods: Vec<PaymentMethod>,
    pub(crate) sessions: Vec<CheckoutSession>,
    pub(crate) shipping_rates: Vec<ShippingRate>,
    pub(crate) coupons: Vec<Coupon>,
    /// Ids of deleted coupons: promotion codes of them stop working.
    pub(crate) deleted_coupons: Vec<String>,
    pub(crate) promotion_codes: Vec<PromotionCode>,
    pub(crate) tax_calculations: Vec<TaxCalculation>,
    pub(crate) subscriptions: Vec<Subscription>,
    pub(crate) invoices: Vec<Invoice>,
    pub(crate) pending_items: Vec<PendingItem>,
    pub(crate) portal_sessions: Vec<PortalSession>,
    pub(crate) payment_intents: Vec<PaymentIntent>,
    pub(crate) charges: Vec<Charge>,
    pub(crate) refunds: Vec<Refund>,
    pub(crate) events: Vec<Event>,
    pub(crate) endpoints: Vec<Endpoint>,
    pub(crate) deliveries: Vec<Delivery>,
    /// Deliveries requested by the current operation, handed to the dispatcher afterwards.
    pub(crate) outbox: Vec<Outgoing>,
    /// `product.created`/`price.created` events of the seed catalog, replayed to new endpoints
    /// (none when `SimConfig::replay_seed_events` is off).
    pub(crate) seed_events: Vec<String>,
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

impl Store {
    pub(crate) fn new(now: i64, base_url: String) -> Self {
        Self {
            now,
            base_url,
            ..Self::default()
        }
    }

    pub(crate) fn id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}_{}", encode_id(self.seq))
    }

    /// A PaymentIntent's `client_secret`: `pi_…_secret_…`, as Stripe shapes it.
    pub(crate) fn client_secret(&mut self, pi: &str) -> String {
        let random = self.id("s");
        format!("{pi}_secret_{}", random.trim_start_matches("s_"))
    }

    pub(crate) fn product(&self, id: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }
    pub(crate) fn price(&self, id: &str) -> Option<&Price> {
        self.prices.iter().find(|p| p.id == id)
    }
    pub(crate) fn customer(&self, id: &str) -> Option<&Customer> {
        self.customers.iter().find(|c| c.id == id)
    }
    pub(crate) fn customer_deleted(&self, id: &str) -> bool {
        self.deleted_customers.iter().any(|c| c == id)
    }
    pub(crate) fn customer_mut(&mut self, id: &str) -> Option<&mut Customer> {
        self.customers.iter_mut().find(|c| c.id == id)
    }
    pub(crate) fn tax_calculation(&self, id: &str) -> Option<&TaxCalculation> {
        self.tax_calculations.iter().find(|t| t.id == id)
    }
    pub(crate) fn coupon(&self, id: &str) -> Option<&Coupon> {
        self.coupons.iter().find(|c| c.id == id)
    }
    pub(crate) fn promotion_code(&self, id: &str) -> Option<&PromotionCode> {
        self.promotion_codes.iter().find(|p| p.id == id)
    }
    pub(crate) fn shipping_rate(&self, id: &str) -> Option<&ShippingRate> {
        self.shipping_rates.iter().find(|r| r.id == id)
    }
    pub(crate) fn session(&self, id: &str) -> Option<&CheckoutSession> {
        self.sessions.iter().find(|s| s.id == id)
    }
    pub(crate) fn session_mut(&mut self, id: &str) -> Option<&mut CheckoutSession> {
        self.sessions.iter_mut().find(|s| s.id == id)
    }
    pub(crate) fn subscription(&self, id: &str) -> Option<&Subscription> {
        self.subscriptions.iter().find(|s| s.id == id)
    }
    pub(crate) fn subscription_mut(&mut self, id: &str) -> Option<&mut Subscription> {
        self.subscriptions.iter_mut().find(|s| s.id == id)
    }
    pub(crate) fn invoice(&self, id: &str) -> Option<&Invoice> {
        self.invoices.iter().find(|i| i.id == id)
    }
    pub(crate) fn invoice_mut(&mut self, id: &str) -> Option<&mut Invoice> {
        self.invoices.iter_mut().find(|i| i.id == id)
    }
    pub(crate) fn payment_method(&self, id: &str) -> Option<&PaymentMethod> {
        self.payment_methods.iter().find(|p| p.id == id)
    }
    pub(crate) fn portal_session(&self, id: &str) -> Option<&PortalSession> {
        self.portal_sessions.iter().find(|p| p.id == id)
    }
    pub(crate) fn payment_intent(&self, id: &str) -> Option<&PaymentIntent> {
        self.payment_intents.iter().find(|p| p.id == id)
    }
    pub(crate) fn payment_intent_mut(&mut self, id: &str) -> Option<&mut PaymentIntent> {
        self.payment_intents.iter_mut().find(|p| p.id == id)
    }
    pub(crate) fn charge(&self, id: &str) -> Option<&Charge> {
        self.charges.iter().find(|c| c.id == id)
    }
    pub(crate) fn charge_mut(&mut self, id: &str) -> Option<&mut Charge> {
        self.charges.iter_mut().find(|c| c.id == id)
    }
    pub(crate) fn refund(&self, id: &str) -> Option<&Refund> {
        self.refunds.iter().find(|r| r.id == id)
    }
    pub(crate) fn event(&self, id: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.id == id)
    }

    /// The e-mail a Checkout Session shows: the one typed on the hosted page, else the
    /// customer's, else the `customer_email` it was created with.
    pub(crate) fn checkout_email(&self, session: &CheckoutSession) -> Option<String> {
        session
            .collected_email
            .clone()
            .or_else(|| {
                session
                    .customer
                    .as_deref()
                    .and_then(|c| self.customer(c))
                    .and_then(|c| c.email.clone())
            })
            .or_else(|| session.customer_email.clone())
    }

    /// Records an event with a snapshot of `object` and queues it for delivery.
    pub(crate) fn emit(&mut self, kind: &str, object: Value, previous: Option<Value>) -> String {
        let id = self.id("evt");
        let pending = self.endpoints.iter().filter(|e| e.wants(kind)).count();
        // Like Stripe: an event is stamped when it happens, in real time, unless the test clock has
        // been moved past the wall clock (then in the clock's time, as for test-clock objects).
        let created = self.now.max(crate::time::wall_clock());
        self.events.push(Event {
            id: id.clone(),
            kind: kind.to_owned(),
            created,
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
        let mut s = Store::new(0, String::new());
        let a = s.id("cus");
        let b = s.id("cus");
        assert_ne!(a, b);
        assert!(a.starts_with("cus_"));
        assert_eq!(a.len(), 4 + 14);
    }
}
