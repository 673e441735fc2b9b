//! Confirming a PaymentIntent with a card PaymentMethod (`POST /v1/payment_intents/{id}/confirm`)
//! and the hosted 3-D Secure step that follows for cards that need it.

use serde_json::json;

use super::cards::add_card;
use super::intents::{self, emit_charge, emit_intent, no_such_intent, unexpected_state};
use crate::error::ApiError;
use crate::model::{
    CardBehavior, Instrument, IntentStatus, MethodType, NewCharge, NextAction, PaymentError,
    ReceiptLine,
};
use crate::render::payment_methods::payment_method as render_pm;
use crate::render::payments::payment_intent as render_intent;
use crate::store::Store;

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
        // A confirm is on-session: cards that decline only off-session go through.
        other => match other.decline(true) {
            Some(error) => Err(fail(store, id, &pm, error.clone())),
            None => {
                succeed(store, id, &pm);
                Ok(())
            }
        },
    }
}

/// `sim.act().confirm_intent`: stores the test card (detached, as `POST /v1/payment_methods`
/// does), confirms with it and returns the intent's status.
pub(crate) fn with_card(store: &mut Store, id: &str, number: &str) -> Result<String, ApiError> {
    let pm = add_card(store, number, None)?;
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
        pi.payment_method = None;
        pi.last_payment_error = Some(error.clone());
    }
    emit_charge(store, "charge.failed", &ch);
    emit_intent(store, "payment_intent.payment_failed", id);
    let intent = store.payment_intent(id).map(render_intent);
    let method = store.payment_method(pm).map(render_pm);
    error
        .card_error()
        .with_detail("charge", json!(ch))
        .with_detail("payment_intent", intent.unwrap_or_default())
        .with_detail("payment_method", method.unwrap_or_default())
}

/// A card Charge of the intent's amount, succeeded or failed with `failure`; its id.
fn new_charge(store: &mut Store, id: &str, pm: &str, failure: Option<PaymentError>) -> String {
    let (brand, last4) = store
        .payment_method(pm)
        .map(|m| (m.brand.clone(), m.last4.clone()))
        .unwrap_or_default();
    let (billing_email, line) = store
        .payment_intent(id)
        .map(|pi| {
            let line = ReceiptLine {
                description: pi
                    .description
                    .clone()
                    .unwrap_or_else(|| "Payment".to_owned()),
                quantity: 1,
                amount: pi.amount,
            };
            (pi.receipt_email.clone(), line)
        })
        .unzip();
    let charge = NewCharge {
        instrument: Instrument {
            payment_method: pm.to_owned(),
            method_type: MethodType::Card,
            brand,
            last4,
        },
        failure,
        settles: None,
        billing_email: billing_email.flatten(),
        lines: line.into_iter().collect(),
    };
    intents::add_charge(store, id, charge)
}
