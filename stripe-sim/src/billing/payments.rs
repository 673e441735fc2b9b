//! Charging a saved card, and the invoice lifecycle (draft → open → paid, with dunning retries).
//! What each test card does is in `cards`.

use super::cards::{NO_PAYMENT_METHOD, decline};
use crate::error::ApiError;
use crate::model::{Invoice, InvoiceLine, InvoiceStatus};
use crate::render::billing as render;
use crate::store::Store;
use crate::time::DAY;

/// Automatic retries after a failed renewal, in days after the first failure (Stripe's
/// "3 retries within a week" style schedule). After the last one fails the subscription is
/// canceled.
const RETRY_DAYS: [i64; 3] = [3, 5, 7];

/// Charges a card. `on_session` charges happen on the hosted page (3-D Secure is handled
/// there); off-session charges are renewals and retries.
pub(crate) fn charge(store: &Store, card: Option<&str>, on_session: bool) -> Result<(), ApiError> {
    let Some(method) = card.and_then(|id| store.payment_method(id)) else {
        return Err(NO_PAYMENT_METHOD.card_error());
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
