//! Completing a Checkout Session: charge the card (or start a bank debit), create customer,
//! subscription and invoice, or the payment (`payment_mode`).

use super::cards;
use super::customers::{create_customer, set_default_card};
use super::payment_mode::{self, Method};
use super::payments;
use super::subscriptions::{self, NewSubscription};
use crate::error::ApiError;
use crate::model::{CardBehavior, CheckoutSession, Meta, SessionStatus};
use crate::render::checkout as render;
use crate::store::Store;

/// What the hosted page should do after a card was submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayOutcome {
    /// Paid; redirect here (`{CHECKOUT_SESSION_ID}` already replaced).
    Redirect(String),
    /// The card needs the 3-D Secure step first.
    Authenticate,
}

fn no_such_session(id: &str) -> ApiError {
    ApiError::missing_resource("checkout.session", id, "session")
}

pub(crate) fn open_session(store: &Store, id: &str) -> Result<(), ApiError> {
    match store.session(id).map(|s| s.status) {
        None => Err(no_such_session(id)),
        Some(SessionStatus::Open) => Ok(()),
        Some(other) => Err(ApiError::state(format!(
            "This Checkout Session is {}.",
            other.as_str()
        ))),
    }
}

/// An open session whose customer (if it names one) still exists: a session created for a
/// customer deleted since cannot complete, or it would bill a customer that is gone.
fn payable_session(store: &Store, id: &str) -> Result<(), ApiError> {
    open_session(store, id)?;
    match store.session(id).and_then(|s| s.customer.as_deref()) {
        Some(c) if store.customer(c).is_none() => {
            Err(ApiError::missing_resource("customer", c, "customer"))
        }
        _ => Ok(()),
    }
}

/// Refuses to take a payment before the page had its shipping step.
fn check_shipping_ready(store: &Store, id: &str) -> Result<(), ApiError> {
    match store.session(id) {
        Some(s) if s.shipping_countries.is_some() && !s.shipping_chosen => Err(ApiError::invalid(
            "shipping_address",
            "Enter a shipping address first.".to_owned(),
        )),
        _ => Ok(()),
    }
}

/// Keeps the e-mail typed on the hosted page.
fn collect_email(store: &mut Store, id: &str, email: Option<&str>) {
    if let Some(s) = store.session_mut(id)
        && let Some(e) = email.filter(|e| !e.trim().is_empty())
    {
        s.collected_email = Some(e.trim().to_owned());
    }
}

/// Handles a card submitted on the hosted page. Declines leave the session open.
pub(crate) fn pay(
    store: &mut Store,
    id: &str,
    email: Option<&str>,
    card: &str,
) -> Result<PayOutcome, ApiError> {
    payable_session(store, id)?;
    check_shipping_ready(store, id)?;
    let method = cards::add_card(store, card, None)?;
    collect_email(store, id, email);
    if store.payment_method(&method).map(|m| m.behavior) == Some(CardBehavior::Authenticate) {
        if let Some(s) = store.session_mut(id) {
            s.pending_payment_method = Some(method);
        }
        return Ok(PayOutcome::Authenticate);
    }
    complete(store, id, &method)
}

/// Result of the 3-D Secure page.
pub(crate) fn authenticate(
    store: &mut Store,
    id: &str,
    approve: bool,
) -> Result<PayOutcome, ApiError> {
    payable_session(store, id)?;
    let method = store
        .session_mut(id)
        .and_then(|s| s.pending_payment_method.take());
    let Some(method) = method else {
        return Err(ApiError::state(
            "No payment is waiting for authentication.".to_owned(),
        ));
    };
    if !approve {
        return Err(ApiError::card(
            "payment_intent_authentication_failure",
            None,
            "We are unable to authenticate your payment method. Please choose a different payment method and try again.",
        ));
    }
    complete(store, id, &method)
}

/// What completing a session created: a subscription with its first invoice, or a payment.
#[derive(Default)]
struct Created {
    subscription: Option<String>,
    invoice: Option<String>,
    payment_intent: Option<String>,
}

impl Created {
    fn payment(payment_intent: String) -> Self {
        Self {
            payment_intent: Some(payment_intent),
            ..Self::default()
        }
    }
}

/// Charges the session's total on-session (with payment method `card`) and creates what
/// Checkout creates.
fn complete(store: &mut Store, id: &str, card: &str) -> Result<PayOutcome, ApiError> {
    let session = store
        .session(id)
        .cloned()
        .ok_or_else(|| no_such_session(id))?;
    let trialing =
        session.mode == "subscription" && session.trial_period_days.is_some_and(|d| d > 0);
    if !trialing && session.amount_total > 0 {
        payments::charge(store, Some(card), true)?;
    }
    let customer = session_customer(store, &session);
    if let Some(customer) = &customer {
        set_default_card(store, customer, card, Some(&session.currency));
    }
    let (status, created) = if session.mode == "subscription" {
        let customer = customer.as_deref().unwrap_or_default();
        let created = start_subscription(store, &session, customer, card)?;
        (
            if trialing {
                "no_payment_required"
            } else {
                "paid"
            },
            created,
        )
    } else if session.amount_total > 0 {
        let pi = payment_mode::pay(store, &session, customer.clone(), Method::Card(card));
        ("paid", Created::payment(pi))
    } else {
        ("no_payment_required", Created::default())
    };
    mark_complete(store, id, status, customer, created);
    finish(store, id)
}

/// Handles a US bank account submitted on the hosted page (payment mode): the session
/// completes at once, unpaid, and the debit settles on the clock 60 s later.
pub(crate) fn pay_bank(
    store: &mut Store,
    id: &str,
    email: Option<&str>,
    account_number: &str,
) -> Result<PayOutcome, ApiError> {
    payable_session(store, id)?;
    check_shipping_ready(store, id)?;
    if store.session(id).is_some_and(|s| !s.accepts_bank_debit()) {
        return Err(ApiError::state(
            "This Checkout Session does not accept bank debits: they are offered only in payment \
             mode, and only when payment_method_types is not set to card alone."
                .to_owned(),
        ));
    }
    let settlement = payment_mode::bank_account(account_number)?;
    collect_email(store, id, email);
    let session = store
        .session(id)
        .cloned()
        .ok_or_else(|| no_such_session(id))?;
    let customer = session_customer(store, &session);
    let (status, created) = if session.amount_total > 0 {
        let method = Method::Bank(account_number, settlement);
        let pi = payment_mode::pay(store, &session, customer.clone(), method);
        ("unpaid", Created::payment(pi))
    } else {
        ("no_payment_required", Created::default())
    };
    mark_complete(store, id, status, customer, created);
    finish(store, id)
}

/// Counts the discount's redemption (`redeem`), sends `checkout.session.completed` and redirects to the
/// success URL.
fn finish(store: &mut Store, id: &str) -> Result<PayOutcome, ApiError> {
    if let Some(completed) = store.session(id).cloned() {
        redeem(store, &completed);
    }
    let Some(session) = store.session(id) else {
        return Err(no_such_session(id));
    };
    let object = render::session(store, session);
    let success = session.success_url.clone().unwrap_or_default();
    store.emit("checkout.session.completed", object, None);
    Ok(PayOutcome::Redirect(
        success.replace("{CHECKOUT_SESSION_ID}", id),
    ))
}

/// The session's customer: the one it was created for, else a new one from the e-mail
/// (subscription mode, or `customer_creation=always`), else none (a guest payment).
fn session_customer(store: &mut Store, session: &CheckoutSession) -> Option<String> {
    match &session.customer {
        Some(c) => Some(c.clone()),
        None if session.mode == "subscription"
            || session.customer_creation.as_deref() == Some("always") =>
        {
            let email = session
                .collected_email
                .clone()
                .or_else(|| session.customer_email.clone());
            Some(create_customer(store, email, None, Meta::new()))
        }
        None => None,
    }
}

fn start_subscription(
    store: &mut Store,
    session: &CheckoutSession,
    customer: &str,
    card: &str,
) -> Result<Created, ApiError> {
    let items: Vec<(String, i64)> = session
        .lines
        .iter()
        .map(|l| (l.price.clone(), l.quantity))
        .collect();
    let (subscription, invoice) = subscriptions::create(
        store,
        NewSubscription {
            customer,
            items: &items,
            trial_days: session.trial_period_days,
            metadata: session.subscription_metadata.clone(),
            description: session.subscription_description.clone(),
            payment_method: Some(card.to_owned()),
        },
    )?;
    Ok(Created {
        subscription: Some(subscription),
        invoice: Some(invoice),
        payment_intent: None,
    })
}

fn mark_complete(
    store: &mut Store,
    id: &str,
    payment_status: &'static str,
    customer: Option<String>,
    created: Created,
) {
    let Some(session) = store.session_mut(id) else {
        return;
    };
    session.status = SessionStatus::Complete;
    session.payment_status = payment_status;
    if customer.is_some() {
        session.customer = customer;
    }
    session.subscription = created.subscription;
    session.invoice = created.invoice;
    session.payment_intent = created.payment_intent;
}

/// Expires an open session (API `expire`, or at its `expires_at` on the clock).
pub(crate) fn expire(store: &mut Store, id: &str) -> Result<(), ApiError> {
    open_session(store, id)?;
    if let Some(s) = store.session_mut(id) {
        s.status = SessionStatus::Expired;
    }
    if let Some(object) = store.session(id).map(|s| render::session(store, s)) {
        store.emit("checkout.session.expired", object, None);
    }
    Ok(())
}

/// Counts the redemption of a completed session's coupon and code.
fn redeem(store: &mut Store, session: &CheckoutSession) {
    let Some(discount) = &session.discount else {
        return;
    };
    if let Some(c) = store.coupons.iter_mut().find(|c| c.id == discount.coupon) {
        c.times_redeemed += 1;
    }
    if let Some(promo) = &discount.promotion_code
        && let Some(p) = store.promotion_codes.iter_mut().find(|p| &p.id == promo)
    {
        p.times_redeemed += 1;
    }
}
