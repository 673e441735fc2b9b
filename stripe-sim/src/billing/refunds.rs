//! Refunds of succeeded charges (`POST /v1/refunds`, `sim.act().refund`): always `succeeded` at
//! once, like card refunds in test mode.

use crate::error::ApiError;
use crate::model::{ChargeStatus, IntentStatus, Meta, Refund};
use crate::money::money;
use crate::render::diff;
use crate::render::payments as render;
use crate::store::Store;

/// A refund request: `payment_intent` and/or `charge`, and what to refund.
#[derive(Debug, Default)]
pub(crate) struct NewRefund {
    pub(crate) payment_intent: Option<String>,
    pub(crate) charge: Option<String>,
    /// Defaults to what is left to refund.
    pub(crate) amount: Option<i64>,
    pub(crate) reason: Option<String>,
    pub(crate) metadata: Meta,
}

/// The charge of a PaymentIntent that can be refunded: the intent must have succeeded.
fn intent_charge(store: &Store, id: &str) -> Result<String, ApiError> {
    let intent = store
        .payment_intent(id)
        .ok_or_else(|| ApiError::missing_resource("payment_intent", id, "payment_intent"))?;
    match (&intent.latest_charge, intent.status) {
        (Some(charge), IntentStatus::Succeeded) => Ok(charge.clone()),
        _ => Err(ApiError::coded(
            "charge_not_refundable",
            Some("payment_intent"),
            format!(
                "This PaymentIntent ({id}) does not have a successful charge to refund (its status is {}).",
                intent.status.as_str()
            ),
        )),
    }
}

/// The charge a request refunds (`charge`, or the PaymentIntent's), which must have succeeded.
fn refundable_charge(store: &Store, new: &NewRefund) -> Result<String, ApiError> {
    let from_intent = match &new.payment_intent {
        Some(pi) => Some(intent_charge(store, pi)?),
        None => None,
    };
    let id = match (&new.charge, from_intent) {
        (None, None) => {
            return Err(ApiError::coded(
                "parameter_missing",
                Some("payment_intent"),
                "One of the following params should be provided for this request: payment_intent or charge.".to_owned(),
            ));
        }
        (Some(ch), Some(pi_charge)) if *ch != pi_charge => {
            return Err(ApiError::invalid(
                "charge",
                format!("The charge {ch} does not belong to this PaymentIntent."),
            ));
        }
        (Some(ch), _) => ch.clone(),
        (None, Some(pi_charge)) => pi_charge,
    };
    let charge = store
        .charge(&id)
        .ok_or_else(|| ApiError::missing_resource("charge", &id, "charge"))?;
    if charge.status != ChargeStatus::Succeeded {
        return Err(ApiError::coded(
            "charge_not_refundable",
            Some("charge"),
            format!(
                "Charge {id} is {} and cannot be refunded.",
                charge.status.as_str()
            ),
        ));
    }
    Ok(id)
}

/// The amount to refund: positive and at most what is left on the charge.
fn refund_amount(store: &Store, charge: &str, requested: Option<i64>) -> Result<i64, ApiError> {
    let Some(c) = store.charge(charge) else {
        return Err(ApiError::missing_resource("charge", charge, "charge"));
    };
    let remaining = c.remaining();
    if remaining <= 0 {
        return Err(ApiError::coded(
            "charge_already_refunded",
            None,
            format!("Charge {charge} has already been refunded."),
        ));
    }
    let amount = requested.unwrap_or(remaining);
    if amount <= 0 {
        return Err(ApiError::invalid(
            "amount",
            "Invalid positive integer".to_owned(),
        ));
    }
    if amount > remaining {
        return Err(ApiError::coded(
            "amount_too_large",
            Some("amount"),
            format!(
                "Refund amount ({}) is greater than unrefunded amount on charge ({})",
                money(amount, &c.currency),
                money(remaining, &c.currency)
            ),
        ));
    }
    Ok(amount)
}

/// Refunds (part of) a charge: the refund succeeds at once, the charge records it, and
/// `refund.created` then `charge.refunded` (with `previous_attributes`) are sent. Returns the
/// refund id.
pub(crate) fn create(store: &mut Store, new: NewRefund) -> Result<String, ApiError> {
    if let Some(reason) = new
        .reason
        .as_deref()
        .filter(|r| !matches!(*r, "duplicate" | "fraudulent" | "requested_by_customer"))
    {
        return Err(ApiError::invalid(
            "reason",
            format!(
                "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer (got {reason})"
            ),
        ));
    }
    let charge_id = refundable_charge(store, &new)?;
    let amount = refund_amount(store, &charge_id, new.amount)?;
    let id = store.id("re");
    let now = store.now;
    let Some(before) = store.charge(&charge_id).map(|c| render::charge(store, c)) else {
        return Err(ApiError::missing_resource("charge", &charge_id, "charge"));
    };
    let Some(charge) = store.charge_mut(&charge_id) else {
        return Err(ApiError::missing_resource("charge", &charge_id, "charge"));
    };
    charge.amount_refunded += amount;
    charge.refunds.push(id.clone());
    let refund = Refund {
        id: id.clone(),
        amount,
        charge: charge_id.clone(),
        payment_intent: charge.payment_intent.clone(),
        currency: charge.currency.clone(),
        customer: charge.customer.clone(),
        reason: new.reason,
        metadata: new.metadata,
        created: now,
    };
    store.refunds.push(refund);
    if let Some(object) = store.refund(&id).map(|r| render::refund(store, r)) {
        store.emit("refund.created", object, None);
    }
    if let Some(after) = store.charge(&charge_id).map(|c| render::charge(store, c)) {
        let previous = diff(&before, &after);
        store.emit("charge.refunded", after, previous);
    }
    Ok(id)
}
