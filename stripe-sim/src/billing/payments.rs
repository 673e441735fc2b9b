//! Test cards, charges and the invoice lifecycle (draft → open → paid, with dunning retries).

use serde_json::Value;

use crate::http::ApiError;
use crate::objects::billing as render;
use crate::state::{
    CardBehavior, Invoice, InvoiceLine, InvoiceStatus, PaymentMethod, State, SubStatus,
};

pub const DAY: i64 = 86_400;
/// Automatic retries after a failed renewal, in days after the first failure (Stripe's
/// "3 retries within a week" style schedule). After the last one fails the subscription is
/// canceled.
pub const RETRY_DAYS: [i64; 3] = [3, 5, 7];

fn luhn_ok(digits: &str) -> bool {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Maps a card number to its test behaviour, like Stripe's test-mode card numbers.
pub fn card_behavior(number: &str) -> Result<CardBehavior, ApiError> {
    let digits: String = number
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.len() < 12
        || digits.len() > 19
        || !digits.chars().all(|c| c.is_ascii_digit())
        || !luhn_ok(&digits)
    {
        return Err(ApiError::card(
            "incorrect_number",
            None,
            "Your card number is incorrect.",
        ));
    }
    Ok(match digits.as_str() {
        "4000000000000002" => CardBehavior::Decline,
        "4000000000009995" => CardBehavior::InsufficientFunds,
        "4000000000003220" => CardBehavior::Authenticate,
        "4000000000000341" => CardBehavior::FailOffSession,
        _ => CardBehavior::Succeed,
    })
}

pub fn brand(number: &str) -> &'static str {
    match number.chars().next() {
        Some('4') => "visa",
        Some('5') | Some('2') => "mastercard",
        Some('3') => "amex",
        _ => "unknown",
    }
}

/// Stores a card as a payment method (not attached to a customer yet).
pub fn add_card(st: &mut State, number: &str, customer: Option<&str>) -> Result<String, ApiError> {
    let behavior = card_behavior(number)?;
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let id = st.id("pm");
    st.payment_methods.push(PaymentMethod {
        id: id.clone(),
        customer: customer.map(str::to_owned),
        last4: digits[digits.len().saturating_sub(4)..].to_owned(),
        brand: brand(&digits).to_owned(),
        behavior,
    });
    Ok(id)
}

/// Charges a card. `on_session` charges happen on the hosted page (3-D Secure is handled
/// there); off-session charges are renewals and retries.
pub fn charge(st: &State, pm: Option<&str>, on_session: bool) -> Result<(), ApiError> {
    let Some(pm) = pm.and_then(|id| st.payment_method(id)) else {
        return Err(ApiError::card(
            "card_declined",
            Some("generic_decline"),
            "The customer has no attached payment source or default payment method.",
        ));
    };
    match pm.behavior {
        CardBehavior::Succeed | CardBehavior::Authenticate => Ok(()),
        CardBehavior::FailOffSession if on_session => Ok(()),
        CardBehavior::FailOffSession | CardBehavior::Decline => Err(ApiError::card(
            "card_declined",
            Some("generic_decline"),
            "Your card was declined.",
        )),
        CardBehavior::InsufficientFunds => Err(ApiError::card(
            "card_declined",
            Some("insufficient_funds"),
            "Your card has insufficient funds.",
        )),
    }
}

/// Top-level keys whose values changed, with their old values (`previous_attributes`).
pub fn diff(before: &Value, after: &Value) -> Option<Value> {
    let (Some(b), Some(a)) = (before.as_object(), after.as_object()) else {
        return None;
    };
    let changed: serde_json::Map<String, Value> = b
        .iter()
        .filter(|(k, v)| a.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!changed.is_empty()).then_some(Value::Object(changed))
}

pub fn emit_invoice(st: &mut State, kind: &str, id: &str) {
    if let Some(v) = st.invoice(id).map(|i| render::invoice(st, i)) {
        st.emit(kind, v, None);
    }
}

/// Creates an invoice and finalizes it at once (Stripe waits an hour; the sim does not).
pub fn create_invoice(
    st: &mut State,
    customer: &str,
    subscription: Option<&str>,
    lines: Vec<InvoiceLine>,
    billing_reason: &'static str,
    currency: &str,
) -> String {
    let id = st.id("in");
    let (email, name, prefix, seq) = match st.customer_mut(customer) {
        Some(c) => {
            let seq = c.next_invoice_sequence;
            c.next_invoice_sequence += 1;
            (
                c.email.clone(),
                c.name.clone(),
                c.invoice_prefix.clone(),
                seq,
            )
        }
        None => (None, None, "SIM".to_owned(), 1),
    };
    let period_start = lines.iter().map(|l| l.period_start).min().unwrap_or(st.now);
    let period_end = lines.iter().map(|l| l.period_end).max().unwrap_or(st.now);
    st.invoices.push(Invoice {
        id: id.clone(),
        number: None,
        customer: customer.to_owned(),
        subscription: subscription.map(str::to_owned),
        status: InvoiceStatus::Draft,
        lines,
        currency: currency.to_owned(),
        created: st.now,
        period_start,
        period_end,
        billing_reason,
        amount_paid: 0,
        attempt_count: 0,
        attempted: false,
        next_payment_attempt: None,
        first_failed_at: None,
        finalized_at: None,
        paid_at: None,
        voided_at: None,
        customer_email: email,
        customer_name: name,
    });
    emit_invoice(st, "invoice.created", &id);
    let now = st.now;
    if let Some(inv) = st.invoice_mut(&id) {
        inv.status = InvoiceStatus::Open;
        inv.number = Some(format!("{prefix}-{seq:04}"));
        inv.finalized_at = Some(now);
        inv.next_payment_attempt = Some(now);
    }
    emit_invoice(st, "invoice.finalized", &id);
    if let Some(sub) = subscription
        && let Some(s) = st.subscription_mut(sub)
    {
        s.latest_invoice = Some(id.clone());
    }
    id
}

/// The card an invoice is charged to: the subscription's, else the customer's default.
fn payment_method_for(st: &State, inv: &Invoice) -> Option<String> {
    inv.subscription
        .as_deref()
        .and_then(|s| st.subscription(s))
        .and_then(|s| s.default_payment_method.clone())
        .or_else(|| {
            st.customer(&inv.customer)
                .and_then(|c| c.default_payment_method.clone())
        })
}

/// Attempts payment of an open invoice. On failure the next retry is scheduled from
/// `RETRY_DAYS`; the caller decides what happens to the subscription.
pub fn pay_invoice(st: &mut State, id: &str, on_session: bool) -> Result<(), ApiError> {
    let Some(inv) = st.invoice(id) else {
        return Err(ApiError::missing_resource("invoice", id, "invoice"));
    };
    if inv.status != InvoiceStatus::Open {
        return Err(ApiError::state(format!(
            "Invoice is already {}.",
            inv.status.as_str()
        )));
    }
    let total = inv.total();
    let result = if total <= 0 {
        Ok(())
    } else {
        let pm = payment_method_for(st, inv);
        charge(st, pm.as_deref(), on_session)
    };
    let now = st.now;
    let Some(inv) = st.invoice_mut(id) else {
        return Ok(());
    };
    if total > 0 {
        inv.attempt_count += 1;
        inv.attempted = true;
    }
    match &result {
        Ok(()) => {
            inv.status = InvoiceStatus::Paid;
            inv.amount_paid = total.max(0);
            inv.paid_at = Some(now);
            inv.next_payment_attempt = None;
            inv.attempted = true;
            emit_invoice(st, "invoice.paid", id);
        }
        Err(_) => {
            let first = *inv.first_failed_at.get_or_insert(now);
            let retry_index = usize::try_from(inv.attempt_count - 1).unwrap_or(usize::MAX);
            inv.next_payment_attempt = RETRY_DAYS.get(retry_index).map(|d| first + d * DAY);
            emit_invoice(st, "invoice.payment_failed", id);
        }
    }
    result
}

/// Runs a due dunning retry: success reactivates the subscription, the last failure cancels it.
pub fn retry_invoice(st: &mut State, id: &str) {
    let paid = pay_invoice(st, id, false).is_ok();
    let Some(inv) = st.invoice(id) else { return };
    let (sub, exhausted) = (inv.subscription.clone(), inv.next_payment_attempt.is_none());
    let Some(sub) = sub else { return };
    if paid {
        super::subscriptions::set_status(st, &sub, SubStatus::Active);
    } else if exhausted {
        super::subscriptions::cancel_now(st, &sub, Some("payment_failed"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cards_map_to_behaviours() {
        assert_eq!(
            card_behavior("4242 4242 4242 4242").ok(),
            Some(CardBehavior::Succeed)
        );
        assert_eq!(
            card_behavior("4000000000000002").ok(),
            Some(CardBehavior::Decline)
        );
        assert_eq!(
            card_behavior("4000000000009995").ok(),
            Some(CardBehavior::InsufficientFunds)
        );
        assert_eq!(
            card_behavior("4000000000003220").ok(),
            Some(CardBehavior::Authenticate)
        );
        assert_eq!(
            card_behavior("4000000000000341").ok(),
            Some(CardBehavior::FailOffSession)
        );
        assert!(card_behavior("4242424242424241").is_err());
        assert!(card_behavior("abc").is_err());
    }
}
