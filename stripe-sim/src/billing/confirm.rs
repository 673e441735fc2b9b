//! Confirming a PaymentIntent with a card PaymentMethod (`POST /v1/payment_intents/{id}/confirm`)
//! and the hosted 3-D Secure step that follows for cards that need it.

use serde_json::json;

use super::intents::unexpected_state;
use super::payment_mode::{emit_charge, emit_intent};
use crate::error::ApiError;
use crate::model::{
    CardBehavior, Charge, ChargeStatus, IntentStatus, MethodType, NextAction, PaymentError,
    ReceiptLine,
};
use crate::render::payment_methods::payment_method as render_pm;
use crate::render::payments::payment_intent as render_intent;
use crate::store::Store;

const DECLINED: PaymentError = PaymentError {
    kind: "card_error",
    code: "card_declined",
    decline_code: Some("generic_decline"),
    message: "Your card was declined.",
};

const INSUFFICIENT_FUNDS: PaymentError = PaymentError {
    kind: "card_error",
    code: "card_declined",
    decline_code: Some("insufficient_funds"),
    message: "Your card has insufficient funds.",
};

const AUTHENTICATION_FAILED: PaymentError = PaymentError {
    kind: "invalid_request_error",
    code: "payment_intent_authentication_failure",
    decline_code: None,
    message: "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.",
};

/// The status of a PaymentIntent (`""` if there is none).
pub(crate) fn status(store: &Store, id: &str) -> String {
    store
        .payment_intent(id)
        .map(|p| p.status.as_str().to_owned())
        .unwrap_or_default()
}

fn no_such_intent(id: &str) -> ApiError {
    ApiError::missing_resource("payment_intent", id, "intent")
}

/// Only intents waiting for a payment method (or for authentication, to switch cards) can be
/// confirmed.
fn confirmable(status: IntentStatus, id: &str) -> Result<(), ApiError> {
    match status {
        IntentStatus::RequiresPaymentMethod | IntentStatus::RequiresAction => Ok(()),
        IntentStatus::Succeeded => Err(unexpected_state(
            "You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed.",
            id,
        )),
        other => Err(unexpected_state(
            &format!(
                "You cannot confirm this PaymentIntent because it has a status of {}.",
                other.as_str()
            ),
            id,
        )),
    }
}

/// Confirms `id` with `payment_method` (else the one already on the intent): succeeded for a
/// good card, `requires_action` (hosted 3-D Secure page) for 3155/3220, and for a decline a
/// 402 card error carrying the intent, which goes back to `requires_payment_method`.
pub(crate) fn confirm(
    store: &mut Store,
    id: &str,
    payment_method: Option<&str>,
    return_url: Option<String>,
) -> Result<(), ApiError> {
    let pi = store.payment_intent(id).ok_or_else(|| no_such_intent(id))?;
    confirmable(pi.status, id)?;
    let Some(pm) = payment_method
        .map(str::to_owned)
        .or_else(|| pi.payment_method.clone())
    else {
        return Err(unexpected_state(
            "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.",
            id,
        ));
    };
    let behavior = store
        .payment_method(&pm)
        .map(|m| m.behavior)
        .ok_or_else(|| ApiError::missing_resource("PaymentMethod", &pm, "payment_method"))?;
    let secret_url = format!(
        "{}/3ds/{id}?client_secret={}",
        store.base_url, pi.client_secret
    );
    if let Some(pi) = store.payment_intent_mut(id) {
        pi.payment_method = Some(pm.clone());
        pi.last_payment_error = None;
        pi.next_action = None;
    }
    match behavior {
        CardBehavior::Authenticate => {
            if let Some(pi) = store.payment_intent_mut(id) {
                pi.status = IntentStatus::RequiresAction;
                pi.next_action = Some(NextAction {
                    url: secret_url,
                    return_url,
                });
            }
            emit_intent(store, "payment_intent.requires_action", id);
            Ok(())
        }
        CardBehavior::Decline => Err(fail(store, id, &pm, DECLINED)),
        CardBehavior::InsufficientFunds => Err(fail(store, id, &pm, INSUFFICIENT_FUNDS)),
        CardBehavior::Succeed | CardBehavior::FailOffSession => {
            succeed(store, id, &pm);
            Ok(())
        }
    }
}

/// `Sim::confirm_intent`: stores the test card (detached, as `POST /v1/payment_methods`
/// does), confirms with it and returns the intent's status.
pub(crate) fn with_card(store: &mut Store, id: &str, number: &str) -> Result<String, ApiError> {
    let pm = super::payments::add_card(store, number, None)?;
    confirm(store, id, Some(&pm), None)?;
    Ok(status(store, id))
}

/// The outcome of the hosted 3-D Secure page: `complete` charges the card, otherwise the
/// intent needs a new payment method (`payment_intent_authentication_failure`).
pub(crate) fn authenticate(store: &mut Store, id: &str, complete: bool) -> Result<(), ApiError> {
    let pi = store.payment_intent(id).ok_or_else(|| no_such_intent(id))?;
    if pi.status != IntentStatus::RequiresAction {
        let message = format!(
            "This PaymentIntent does not wait for authentication: it has a status of {}.",
            pi.status.as_str()
        );
        return Err(unexpected_state(&message, id));
    }
    let pm = pi.payment_method.clone().unwrap_or_default();
    if complete {
        succeed(store, id, &pm);
        return Ok(());
    }
    if let Some(pi) = store.payment_intent_mut(id) {
        pi.status = IntentStatus::RequiresPaymentMethod;
        pi.last_payment_error = Some(AUTHENTICATION_FAILED);
        pi.payment_method = None;
        pi.next_action = None;
    }
    emit_intent(store, "payment_intent.payment_failed", id);
    Ok(())
}

fn succeed(store: &mut Store, id: &str, pm: &str) {
    let ch = new_charge(store, id, pm, None);
    if let Some(pi) = store.payment_intent_mut(id) {
        pi.status = IntentStatus::Succeeded;
        pi.latest_charge = Some(ch.clone());
        pi.next_action = None;
    }
    emit_charge(store, "charge.succeeded", &ch);
    emit_intent(store, "payment_intent.succeeded", id);
}

/// A declined attempt: a failed Charge, the intent back to `requires_payment_method`, events,
/// and the 402 the confirm call answers (with the intent, as Stripe sends it).
fn fail(store: &mut Store, id: &str, pm: &str, error: PaymentError) -> ApiError {
    let ch = new_charge(store, id, pm, Some(error.clone()));
    if let Some(pi) = store.payment_intent_mut(id) {
        pi.status = IntentStatus::RequiresPaymentMethod;
        pi.latest_charge = Some(ch.clone());
        pi.payment_method = None;
        pi.last_payment_error = Some(error.clone());
    }
    emit_charge(store, "charge.failed", &ch);
    emit_intent(store, "payment_intent.payment_failed", id);
    let intent = store.payment_intent(id).map(render_intent);
    let method = store.payment_method(pm).map(render_pm);
    ApiError::card(error.code, error.decline_code, error.message)
        .with_doc_url(error.code)
        .with_detail("charge", json!(ch))
        .with_detail("payment_intent", intent.unwrap_or_default())
        .with_detail("payment_method", method.unwrap_or_default())
}

/// A Charge of the intent's amount with its metadata, succeeded or failed with `failure`.
fn new_charge(store: &mut Store, id: &str, pm: &str, failure: Option<PaymentError>) -> String {
    let ch = store.id("ch");
    let (brand, last4) = store
        .payment_method(pm)
        .map(|m| (m.brand.clone(), m.last4.clone()))
        .unwrap_or_default();
    let Some(pi) = store.payment_intent(id) else {
        return ch;
    };
    let charge = Charge {
        id: ch.clone(),
        amount: pi.amount,
        amount_refunded: 0,
        currency: pi.currency.clone(),
        customer: pi.customer.clone(),
        payment_intent: pi.id.clone(),
        payment_method: pm.to_owned(),
        method_type: MethodType::Card,
        brand,
        last4,
        status: if failure.is_some() {
            ChargeStatus::Failed
        } else {
            ChargeStatus::Succeeded
        },
        failure,
        metadata: pi.metadata.clone(),
        billing_email: pi.receipt_email.clone(),
        lines: vec![ReceiptLine {
            description: pi
                .description
                .clone()
                .unwrap_or_else(|| "Payment".to_owned()),
            quantity: 1,
            amount: pi.amount,
        }],
        refunds: Vec::new(),
        settles: None,
        created: store.now,
    };
    store.charges.push(charge);
    ch
}
