//! The core both payment engines share: a PaymentIntent is opened ([`open`]) and charged
//! ([`add_charge`]) here, whether hosted Checkout's payment mode (`payment_mode`) or the API
//! (`create` here, then `confirm`) drives it. Also updating and canceling API intents.

use crate::error::ApiError;
use crate::model::{
    Charge, IntentStatus, Meta, NewCharge, NewIntent, PaymentIntent, ShippingDetails,
    merge_metadata,
};
use crate::render::payments as render;
use crate::store::Store;

/// Changes allowed by `POST /v1/payment_intents/{id}` (`None`: leave as is).
#[derive(Debug, Default)]
pub(crate) struct IntentUpdate {
    pub(crate) amount: Option<i64>,
    pub(crate) metadata: Option<Meta>,
    pub(crate) description: Option<Option<String>>,
    pub(crate) customer: Option<Option<String>>,
    pub(crate) receipt_email: Option<Option<String>>,
    pub(crate) shipping: Option<ShippingDetails>,
    /// `hooks[inputs][tax][calculation]`.
    pub(crate) tax_calculation: Option<String>,
}

pub(crate) fn no_such_intent(id: &str) -> ApiError {
    ApiError::missing_resource("payment_intent", id, "intent")
}

/// A customer parameter must name a live customer, as on Stripe.
fn check_customer(store: &Store, customer: Option<&str>) -> Result<(), ApiError> {
    match customer {
        Some(c) if store.customer(c).is_none() => {
            Err(ApiError::missing_resource("customer", c, "customer"))
        }
        _ => Ok(()),
    }
}

/// Adds a PaymentIntent in `requires_payment_method` and returns its id; no event (payment-mode
/// Checkout sends none for its intent).
pub(crate) fn open(store: &mut Store, new: NewIntent) -> String {
    let id = store.id("pi");
    let client_secret = store.client_secret(&id);
    let intent = PaymentIntent::new(id.clone(), client_secret, store.now, new);
    store.payment_intents.push(intent);
    id
}

/// `POST /v1/payment_intents`: checks the customer, opens the intent and emits
/// `payment_intent.created`.
pub(crate) fn create(store: &mut Store, new: NewIntent) -> Result<String, ApiError> {
    check_customer(store, new.customer.as_deref())?;
    if let Some(calc) = &new.tax_calculation {
        check_tax(store, calc, new.amount, &new.currency)?;
    }
    let id = open(store, new);
    emit_intent(store, "payment_intent.created", &id);
    Ok(id)
}

/// Charges intent `id` (its whole amount) and makes the charge its `latest_charge`; returns the
/// `ch_…` id. The caller moves the intent's status and emits the events.
pub(crate) fn add_charge(store: &mut Store, id: &str, new: NewCharge) -> String {
    let ch = store.id("ch");
    let now = store.now;
    let Some(intent) = store.payment_intent(id) else {
        return ch;
    };
    let charge = Charge::new(ch.clone(), intent, new, now);
    store.charges.push(charge);
    if let Some(intent) = store.payment_intent_mut(id) {
        intent.latest_charge = Some(ch.clone());
    }
    ch
}

pub(crate) fn emit_charge(store: &mut Store, kind: &str, id: &str) {
    if let Some(object) = store.charge(id).map(|c| render::charge(store, c)) {
        store.emit(kind, object, None);
    }
}

pub(crate) fn emit_intent(store: &mut Store, kind: &str, id: &str) {
    if let Some(object) = store.payment_intent(id).map(render::payment_intent) {
        store.emit(kind, object, None);
    }
}

/// Updates an intent that has neither succeeded nor been canceled (Stripe sends no event).
pub(crate) fn update(store: &mut Store, id: &str, change: IntentUpdate) -> Result<(), ApiError> {
    let status = store
        .payment_intent(id)
        .map(|p| p.status)
        .ok_or_else(|| no_such_intent(id))?;
    if matches!(
        status,
        IntentStatus::Succeeded | IntentStatus::Canceled | IntentStatus::Processing
    ) {
        return Err(unexpected_state(
            &format!(
                "This PaymentIntent's parameters cannot be updated because it has a status of {}. You may only update a PaymentIntent that has a status of `requires_payment_method`, `requires_confirmation` or `requires_action`.",
                status.as_str()
            ),
            id,
        ));
    }
    if let Some(Some(c)) = &change.customer {
        check_customer(store, Some(c))?;
    }
    let current = store.payment_intent(id).ok_or_else(|| no_such_intent(id))?;
    let calc = change
        .tax_calculation
        .clone()
        .or_else(|| current.tax_calculation.clone());
    if let Some(calc) = &calc {
        let amount = change.amount.unwrap_or(current.amount);
        let currency = current.currency.clone();
        check_tax(store, calc, amount, &currency)?;
    }
    let Some(pi) = store.payment_intent_mut(id) else {
        return Err(no_such_intent(id));
    };
    if let Some(shipping) = change.shipping {
        pi.shipping = Some(shipping);
    }
    pi.tax_calculation = calc;
    if let Some(amount) = change.amount {
        pi.amount = amount;
    }
    if let Some(update) = change.metadata {
        merge_metadata(&mut pi.metadata, update);
    }
    if let Some(d) = change.description {
        pi.description = d;
    }
    if let Some(c) = change.customer {
        pi.customer = c;
    }
    if let Some(e) = change.receipt_email {
        pi.receipt_email = e;
    }
    Ok(())
}

/// A Tax Calculation attached to an intent must exist and charge what the intent charges.
fn check_tax(store: &Store, calc: &str, amount: i64, currency: &str) -> Result<(), ApiError> {
    let param = "hooks[inputs][tax][calculation]";
    let found = store
        .tax_calculation(calc)
        .ok_or_else(|| ApiError::missing_resource("tax.calculation", calc, param))?;
    if found.amount_total() != amount || found.currency != currency {
        return Err(ApiError::invalid(
            "amount",
            format!(
                "The PaymentIntent's amount ({amount} {currency}) must match the Tax Calculation's amount_total ({} {}).",
                found.amount_total(),
                found.currency
            ),
        ));
    }
    Ok(())
}

/// Stripe's 400 for an action the intent's status does not allow.
pub(crate) fn unexpected_state(message: &str, id: &str) -> ApiError {
    ApiError::coded("payment_intent_unexpected_state", None, message.to_owned())
        .with_doc_url("payment_intent_unexpected_state")
        .with_detail("payment_intent_id", serde_json::json!(id))
}

/// `cancellation_reason` values Stripe accepts from the API.
pub(crate) const CANCELLATION_REASONS: [&str; 4] = [
    "duplicate",
    "fraudulent",
    "requested_by_customer",
    "abandoned",
];

/// Cancels an intent that has not succeeded (emits `payment_intent.canceled`).
pub(crate) fn cancel(store: &mut Store, id: &str, reason: Option<String>) -> Result<(), ApiError> {
    let now = store.now;
    let pi = store
        .payment_intent_mut(id)
        .ok_or_else(|| no_such_intent(id))?;
    if matches!(
        pi.status,
        IntentStatus::Succeeded | IntentStatus::Canceled | IntentStatus::Processing
    ) {
        let message = format!(
            "You cannot cancel this PaymentIntent because it has a status of {}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action.",
            pi.status.as_str()
        );
        return Err(unexpected_state(&message, id));
    }
    pi.status = IntentStatus::Canceled;
    pi.canceled_at = Some(now);
    pi.cancellation_reason = reason;
    pi.next_action = None;
    emit_intent(store, "payment_intent.canceled", id);
    Ok(())
}
