//! JSON for PaymentIntents, Charges and Refunds (keys as in Stripe's fixtures).

use serde_json::{Value, json};

use super::list_object;
use crate::model::{
    Charge, ChargeStatus, IntentStatus, MethodType, PaymentError, PaymentIntent, Refund,
};
use crate::store::Store;

fn doc_url(code: &str) -> String {
    format!(
        "https://docs.stripe.com/error-codes/{}",
        code.replace('_', "-")
    )
}

/// `last_payment_error` of an intent whose payment failed.
fn last_payment_error(e: &PaymentError) -> Value {
    let mut error = json!({
        "type": e.kind,
        "code": e.code,
        "doc_url": doc_url(e.code),
        "message": e.message,
    });
    if let Some(d) = e.decline_code {
        error["decline_code"] = json!(d);
    }
    error
}

/// `next_action` of an intent waiting for 3-D Secure: the hosted challenge page.
fn next_action(pi: &PaymentIntent) -> Value {
    match &pi.next_action {
        Some(a) if pi.status == IntentStatus::RequiresAction => json!({
            "type": "redirect_to_url",
            "redirect_to_url": { "url": a.url, "return_url": a.return_url },
        }),
        _ => Value::Null,
    }
}

/// Long by nature: one JSON literal with every field of Stripe's object, in Stripe's order.
pub(crate) fn payment_intent(pi: &PaymentIntent) -> Value {
    let received = if pi.status == IntentStatus::Succeeded {
        pi.amount
    } else {
        0
    };
    json!({
        "id": pi.id,
        "object": "payment_intent",
        "amount": pi.amount,
        "amount_capturable": 0,
        "amount_details": { "tip": {} },
        "amount_received": received,
        "application": null,
        "application_fee_amount": null,
        "automatic_payment_methods": pi
            .automatic_payment_methods
            .then(|| json!({ "allow_redirects": "always", "enabled": true })),
        "canceled_at": pi.canceled_at,
        "cancellation_reason": pi.cancellation_reason,
        "capture_method": "automatic",
        "client_secret": pi.client_secret,
        "confirmation_method": "automatic",
        "created": pi.created,
        "currency": pi.currency,
        "customer": pi.customer,
        "customer_account": null,
        "description": pi.description,
        "excluded_payment_method_types": null,
        "last_payment_error": pi.last_payment_error.as_ref().map(last_payment_error),
        "latest_charge": pi.latest_charge,
        "livemode": false,
        "managed_payments": null,
        "metadata": pi.metadata,
        "next_action": next_action(pi),
        "on_behalf_of": null,
        "payment_method": pi.payment_method,
        "payment_method_configuration_details": null,
        "payment_method_options": {},
        "payment_method_types": [pi.method_type.as_str()],
        "processing": null,
        "receipt_email": pi.receipt_email,
        "review": null,
        "setup_future_usage": null,
        "shipping": pi.shipping.as_ref().map(super::shipping::intent_shipping),
        "hooks": pi.tax_calculation.as_ref().map(|calc| serde_json::json!({
            "inputs": { "tax": { "calculation": calc } },
        })),
        "source": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": pi.status.as_str(),
        "transfer_data": null,
        "transfer_group": null,
    })
}

/// The keys of an intent a publishable key may read (the fields Stripe's reference marks
/// "retrievable with publishable key"): never `customer`, `metadata` or charges, which only the
/// server should see.
const PUBLISHABLE_INTENT_KEYS: [&str; 24] = [
    "id",
    "object",
    "amount",
    "automatic_payment_methods",
    "canceled_at",
    "cancellation_reason",
    "capture_method",
    "client_secret",
    "confirmation_method",
    "created",
    "currency",
    "description",
    "last_payment_error",
    "livemode",
    "next_action",
    "payment_method",
    "payment_method_configuration_details",
    "payment_method_types",
    "processing",
    "receipt_email",
    "setup_future_usage",
    "shipping",
    "source",
    "status",
];

/// A rendered intent (possibly expanded) cut down to what a publishable key may read.
pub(crate) fn publishable_intent(full: &Value) -> Value {
    let Some(object) = full.as_object() else {
        return full.clone();
    };
    let kept = object
        .iter()
        .filter(|(k, _)| PUBLISHABLE_INTENT_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()));
    Value::Object(kept.collect())
}

fn card_details(c: &Charge) -> Value {
    json!({
        "type": "card",
        "card": {
            "amount_authorized": c.amount,
            "authorization_code": null,
            "brand": c.brand,
            "checks": {
                "address_line1_check": null,
                "address_postal_code_check": null,
                "cvc_check": "pass",
            },
            "country": "US",
            "exp_month": 12,
            "exp_year": 2034,
            "extended_authorization": { "status": "disabled" },
            "fingerprint": format!("sim{}", c.last4),
            "funding": "credit",
            "incremental_authorization": { "status": "unavailable" },
            "installments": null,
            "last4": c.last4,
            "mandate": null,
            "multicapture": { "status": "unavailable" },
            "network": c.brand,
            "network_token": { "used": false },
            "network_transaction_id": null,
            "overcapture": { "maximum_amount_capturable": c.amount, "status": "unavailable" },
            "regulated_status": "unregulated",
            "three_d_secure": null,
            "transaction_link_id": null,
            "wallet": null,
        },
    })
}

fn bank_details(c: &Charge) -> Value {
    json!({
        "type": "us_bank_account",
        "us_bank_account": {
            "account_holder_type": "individual",
            "account_type": "checking",
            "bank_name": c.brand,
            "expected_debit_date": null,
            "fingerprint": format!("sim{}", c.last4),
            "last4": c.last4,
            "mandate": null,
            "payment_reference": null,
            "routing_number": "110000000",
        },
    })
}

fn outcome(c: &Charge) -> Value {
    let (network_status, kind, seller_message) = match c.status {
        ChargeStatus::Succeeded => ("approved_by_network", "authorized", "Payment complete."),
        ChargeStatus::Pending => ("approved_by_network", "authorized", "Payment pending."),
        ChargeStatus::Failed => ("declined_by_network", "issuer_declined", "Payment failed."),
    };
    json!({
        "advice_code": null,
        "network_advice_code": null,
        "network_decline_code": null,
        "network_status": network_status,
        "reason": c.failure.as_ref().map(|f| f.decline_code.unwrap_or(f.code)),
        "seller_message": seller_message,
        "type": kind,
    })
}

/// Long by nature: one JSON literal with every field of Stripe's object, in Stripe's order.
pub(crate) fn charge(store: &Store, c: &Charge) -> Value {
    let refunds: Vec<Value> = c
        .refunds
        .iter()
        .rev()
        .filter_map(|r| store.refund(r))
        .map(|r| refund(store, r))
        .collect();
    let details = match c.method_type {
        MethodType::Card => card_details(c),
        MethodType::UsBankAccount => bank_details(c),
    };
    json!({
        "id": c.id,
        "object": "charge",
        "amount": c.amount,
        "amount_captured": if c.captured() { c.amount } else { 0 },
        "amount_refunded": c.amount_refunded,
        "application": null,
        "application_fee": null,
        "application_fee_amount": null,
        "balance_transaction": null,
        "billing_details": {
            "address": {
                "city": null,
                "country": null,
                "line1": null,
                "line2": null,
                "postal_code": null,
                "state": null,
            },
            "email": c.billing_email,
            "name": null,
            "phone": null,
            "tax_id": null,
        },
        "calculated_statement_descriptor": "STRIPE SIM",
        "captured": c.captured(),
        "created": c.created,
        "currency": c.currency,
        "customer": c.customer,
        "description": null,
        "disputed": false,
        "failure_balance_transaction": null,
        "failure_code": c.failure.as_ref().map(|f| f.code),
        "failure_message": c.failure.as_ref().map(|f| f.message),
        "fraud_details": {},
        "livemode": false,
        "metadata": c.metadata,
        "on_behalf_of": null,
        "outcome": outcome(c),
        "paid": c.status == ChargeStatus::Succeeded,
        "payment_intent": c.payment_intent,
        "payment_method": c.payment_method,
        "payment_method_details": details,
        "receipt_email": c.billing_email,
        "receipt_number": null,
        "receipt_url": format!("{}/receipts/{}", store.base_url, c.id),
        "refunded": c.amount > 0 && c.amount_refunded >= c.amount,
        "refunds": list_object(refunds, false, &format!("/v1/charges/{}/refunds", c.id)),
        "review": null,
        "shipping": c.shipping.as_ref().map(super::shipping::intent_shipping),
        "source": null,
        "source_transfer": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": c.status.as_str(),
        "transfer_data": null,
        "transfer_group": null,
    })
}

pub(crate) fn refund(store: &Store, r: &Refund) -> Value {
    let bank = store
        .charge(&r.charge)
        .is_some_and(|c| c.method_type == MethodType::UsBankAccount);
    let destination = if bank {
        json!({
            "type": "us_bank_transfer",
            "us_bank_transfer": { "reference": null, "reference_status": "pending" },
        })
    } else {
        json!({ "type": "card", "card": { "type": "refund" } })
    };
    json!({
        "id": r.id,
        "object": "refund",
        "amount": r.amount,
        "balance_transaction": null,
        "charge": r.charge,
        "created": r.created,
        "currency": r.currency,
        "customer": r.customer,
        "customer_account": null,
        "destination_details": destination,
        "metadata": r.metadata,
        "payment_intent": r.payment_intent,
        "payment_method": null,
        "reason": r.reason,
        "receipt_number": null,
        "source_transfer_reversal": null,
        "status": "succeeded",
        "transfer_reversal": null,
    })
}
