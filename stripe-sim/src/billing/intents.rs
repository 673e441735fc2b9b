//! PaymentIntents created over the API: create, update and cancel (confirming them is in
//! `confirm`). Payment-mode Checkout creates its own in `payment_mode`.

use super::payment_mode::emit_intent;
use crate::error::ApiError;
use crate::model::{IntentStatus, Meta, MethodType, PaymentIntent, merge_metadata};
use crate::store::Store;

/// The parameters of `POST /v1/payment_intents`, already checked for form.
#[derive(Debug, Default)]
pub(crate) struct NewIntent {
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) customer: Option<String>,
    pub(crate) metadata: Meta,
    pub(crate) description: Option<String>,
    pub(crate) receipt_email: Option<String>,
    pub(crate) automatic_payment_methods: bool,
}

/// Changes allowed by `POST /v1/payment_intents/{id}` (`None`: leave as is).
#[derive(Debug, Default)]
pub(crate) struct IntentUpdate {
    pub(crate) amount: Option<i64>,
    pub(crate) metadata: Option<Meta>,
    pub(crate) description: Option<Option<String>>,
    pub(crate) customer: Option<Option<String>>,
    pub(crate) receipt_email: Option<Option<String>>,
}

fn no_such_intent(id: &str) -> ApiError {
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

/// Creates a PaymentIntent in `requires_payment_method` and emits `payment_intent.created`.
pub(crate) fn create(store: &mut Store, new: NewIntent) -> Result<String, ApiError> {
    check_customer(store, new.customer.as_deref())?;
    let id = store.id("pi");
    let client_secret = store.client_secret(&id);
    store.payment_intents.push(PaymentIntent {
        id: id.clone(),
        amount: new.amount,
        currency: new.currency,
        customer: new.customer,
        status: IntentStatus::RequiresPaymentMethod,
        latest_charge: None,
        payment_method: None,
        method_type: MethodType::Card,
        metadata: new.metadata,
        last_payment_error: None,
        created: store.now,
        client_secret,
        description: new.description,
        receipt_email: new.receipt_email,
        automatic_payment_methods: new.automatic_payment_methods,
        canceled_at: None,
        cancellation_reason: None,
        next_action: None,
    });
    emit_intent(store, "payment_intent.created", &id);
    Ok(id)
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
    let Some(pi) = store.payment_intent_mut(id) else {
        return Err(no_such_intent(id));
    };
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
