//! Test cards, charges and the invoice lifecycle (draft → open → paid, with dunning retries).

use crate::error::ApiError;
use crate::model::{CardBehavior, Invoice, InvoiceLine, InvoiceStatus, PaymentMethod};
use crate::render::billing as render;
use crate::store::Store;
use crate::time::DAY;

/// Automatic retries after a failed renewal, in days after the first failure (Stripe's
/// "3 retries within a week" style schedule). After the last one fails the subscription is
/// canceled.
const RETRY_DAYS: [i64; 3] = [3, 5, 7];

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
fn card_behavior(number: &str) -> Result<CardBehavior, ApiError> {
    let digits: String = number
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.len() < 12
        || digits.len() > 19
        || !digits.chars().all(|c| c.is_ascii_digit())
        || !luhn_ok(&digits)
    {
        return Err(
            ApiError::card("incorrect_number", None, "Your card number is incorrect.")
                .with_param("card[number]"),
        );
    }
    Ok(match digits.as_str() {
        "4000000000000002" => CardBehavior::Decline,
        "4000000000009995" => CardBehavior::InsufficientFunds,
        "4000000000003220" | "4000002500003155" => CardBehavior::Authenticate,
        "4000000000000341" => CardBehavior::FailOffSession,
        _ => CardBehavior::Succeed,
    })
}

fn brand(number: &str) -> &'static str {
    match number.chars().next() {
        Some('4') => "visa",
        Some('5') | Some('2') => "mastercard",
        Some('3') => "amex",
        _ => "unknown",
    }
}

/// Stores a card as a payment method (attached to `customer`, if given); returns its id.
/// Hosted pages do not keep the expiry they check, so the card shows 12/2034.
pub(crate) fn add_card(
    store: &mut Store,
    number: &str,
    customer: Option<&str>,
) -> Result<String, ApiError> {
    store_card(store, number, customer, (12, 2034))
}

/// `POST /v1/payment_methods` with `type=card`: checks number, expiry (`(month, year)`, a
/// two-digit year means 20YY) like Stripe, then stores the card detached. Only the last four
/// digits and the test behaviour are kept.
pub(crate) fn create_card_method(
    store: &mut Store,
    number: &str,
    expiry: (i64, i64),
) -> Result<String, ApiError> {
    let (month, year) = expiry;
    let year = if (0..100).contains(&year) {
        2000 + year
    } else {
        year
    };
    card_behavior(number)?;
    if !(1..=12).contains(&month) {
        return Err(ApiError::card(
            "invalid_expiry_month",
            None,
            "Your card's expiration month is invalid.",
        )
        .with_param("card[exp_month]"));
    }
    let (now_year, now_month) = crate::time::year_month(store.now);
    if year < now_year || year > now_year + 50 || (year == now_year && month < now_month) {
        let (code, message) = if year == now_year {
            (
                "invalid_expiry_month",
                "Your card's expiration month is invalid.",
            )
        } else {
            (
                "invalid_expiry_year",
                "Your card's expiration year is invalid.",
            )
        };
        let param = if year == now_year {
            "card[exp_month]"
        } else {
            "card[exp_year]"
        };
        return Err(ApiError::card(code, None, message).with_param(param));
    }
    store_card(store, number, None, (month, year))
}

fn store_card(
    store: &mut Store,
    number: &str,
    customer: Option<&str>,
    (exp_month, exp_year): (i64, i64),
) -> Result<String, ApiError> {
    let behavior = card_behavior(number)?;
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let id = store.id("pm");
    store.payment_methods.push(PaymentMethod {
        id: id.clone(),
        customer: customer.map(str::to_owned),
        last4: digits[digits.len().saturating_sub(4)..].to_owned(),
        brand: brand(&digits).to_owned(),
        exp_month,
        exp_year,
        behavior,
        created: store.now,
    });
    Ok(id)
}

/// The card error a charge with a card of this behaviour gets, if any. On-session charges
/// (the hosted pages, saving a card in the portal) go through for cards that only fail
/// off-session.
pub(crate) fn decline(behavior: CardBehavior, on_session: bool) -> Result<(), ApiError> {
    match behavior {
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

/// Charges a card. `on_session` charges happen on the hosted page (3-D Secure is handled
/// there); off-session charges are renewals and retries.
pub(crate) fn charge(store: &Store, card: Option<&str>, on_session: bool) -> Result<(), ApiError> {
    let Some(method) = card.and_then(|id| store.payment_method(id)) else {
        return Err(ApiError::card(
            "card_declined",
            Some("generic_decline"),
            "The customer has no attached payment source or default payment method.",
        ));
    };
    decline(method.behavior, on_session)
}

fn emit_invoice(store: &mut Store, kind: &str, id: &str) {
    if let Some(object) = store.invoice(id).map(|i| render::invoice(store, i)) {
        store.emit(kind, object, None);
    }
}

/// The customer's e-mail and name for the invoice, and its number (`PREFIX-0001`); takes
/// the customer's next invoice sequence number.
fn invoice_identity(store: &mut Store, customer: &str) -> (Option<String>, Option<String>, String) {
    match store.customer_mut(customer) {
        Some(c) => {
            let seq = c.next_invoice_sequence;
            c.next_invoice_sequence += 1;
            let number = format!("{}-{seq:04}", c.invoice_prefix);
            (c.email.clone(), c.name.clone(), number)
        }
        None => (None, None, "SIM-0001".to_owned()),
    }
}

/// Creates an invoice and finalizes it at once (Stripe waits an hour; the sim does not).
pub(crate) fn create_invoice(
    store: &mut Store,
    customer: &str,
    subscription: Option<&str>,
    lines: Vec<InvoiceLine>,
    billing_reason: &'static str,
    currency: &str,
) -> String {
    let id = store.id("in");
    let (email, name, number) = invoice_identity(store, customer);
    let now = store.now;
    let period_start = lines.iter().map(|l| l.period_start).min().unwrap_or(now);
    let period_end = lines.iter().map(|l| l.period_end).max().unwrap_or(now);
    store.invoices.push(Invoice {
        id: id.clone(),
        number: None,
        customer: customer.to_owned(),
        subscription: subscription.map(str::to_owned),
        status: InvoiceStatus::Draft,
        lines,
        currency: currency.to_owned(),
        created: now,
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
    emit_invoice(store, "invoice.created", &id);
    if let Some(invoice) = store.invoice_mut(&id) {
        invoice.status = InvoiceStatus::Open;
        invoice.number = Some(number);
        invoice.finalized_at = Some(now);
        invoice.next_payment_attempt = Some(now);
    }
    emit_invoice(store, "invoice.finalized", &id);
    if let Some(sub) = subscription
        && let Some(s) = store.subscription_mut(sub)
    {
        s.latest_invoice = Some(id.clone());
    }
    id
}

/// The card an invoice is charged to: the subscription's, else the customer's default.
fn payment_method_for(store: &Store, invoice: &Invoice) -> Option<String> {
    invoice
        .subscription
        .as_deref()
        .and_then(|s| store.subscription(s))
        .and_then(|s| s.default_payment_method.clone())
        .or_else(|| {
            store
                .customer(&invoice.customer)
                .and_then(|c| c.default_payment_method.clone())
        })
}

/// Attempts payment of an open invoice. On failure the next retry is scheduled from
/// `RETRY_DAYS`; the caller decides what happens to the subscription.
pub(crate) fn pay_invoice(store: &mut Store, id: &str, on_session: bool) -> Result<(), ApiError> {
    let Some(invoice) = store.invoice(id) else {
        return Err(ApiError::missing_resource("invoice", id, "invoice"));
    };
    if invoice.status != InvoiceStatus::Open {
        return Err(ApiError::state(format!(
            "Invoice is already {}.",
            invoice.status.as_str()
        )));
    }
    let total = invoice.total();
    let result = if total <= 0 {
        Ok(())
    } else {
        let card = payment_method_for(store, invoice);
        charge(store, card.as_deref(), on_session)
    };
    let now = store.now;
    let Some(invoice) = store.invoice_mut(id) else {
        return Ok(());
    };
    if total > 0 {
        invoice.attempt_count += 1;
        invoice.attempted = true;
    }
    match &result {
        Ok(()) => {
            invoice.status = InvoiceStatus::Paid;
            invoice.amount_paid = total.max(0);
            invoice.paid_at = Some(now);
            invoice.next_payment_attempt = None;
            invoice.attempted = true;
            emit_invoice(store, "invoice.paid", id);
        }
        Err(_) => {
            let first = *invoice.first_failed_at.get_or_insert(now);
            let retry_index = usize::try_from(invoice.attempt_count - 1).unwrap_or(usize::MAX);
            invoice.next_payment_attempt = RETRY_DAYS.get(retry_index).map(|d| first + d * DAY);
            emit_invoice(store, "invoice.payment_failed", id);
        }
    }
    result
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
        assert_eq!(
            card_behavior("4000002500003155").ok(),
            Some(CardBehavior::Authenticate)
        );
    }
}
