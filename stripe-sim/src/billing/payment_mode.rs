//! Payment-mode Checkout: the PaymentIntent and Charge a paid session creates, and bank debits
//! (US bank account test numbers) that settle on the clock 60 s after the session completed.

use super::intents::{self, emit_charge, emit_intent};
use crate::error::ApiError;
use crate::model::{
    ChargeStatus, CheckoutSession, Instrument, IntentStatus, MethodType, NewCharge, NewIntent,
    PaymentError, ReceiptLine, SessionStatus, Settlement,
};
use crate::render::checkout::session as render_session;
use crate::store::Store;

/// How long a bank debit takes to settle (or fail) on the sim clock.
pub(crate) const BANK_SETTLEMENT_SECS: i64 = 60;

/// The bank name test accounts show, as on Stripe.
const TEST_BANK: &str = "STRIPE TEST BANK";

const ACCOUNT_CLOSED: PaymentError = PaymentError {
    kind: "invalid_request_error",
    code: "account_closed",
    decline_code: None,
    message: "The customer's bank account has been closed.",
};

/// What a test account number does, like Stripe's ACH test numbers.
pub(crate) fn bank_account(number: &str) -> Result<Settlement, ApiError> {
    let digits: String = number
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    match digits.as_str() {
        "000123456789" => Ok(Settlement::Succeed),
        "000111111113" => Ok(Settlement::Fail),
        _ => Err(ApiError::invalid(
            "account_number",
            "Use a test account number: 000123456789 (succeeds) or 000111111113 (fails: account closed)."
                .to_owned(),
        )),
    }
}

/// How a session is being paid.
pub(crate) enum Method<'a> {
    /// A stored card (`pm_…`), charged at once.
    Card(&'a str),
    /// A bank account number, debited later.
    Bank(&'a str, Settlement),
}

/// What was bought, for the receipt.
fn receipt_lines(store: &Store, session: &CheckoutSession) -> Vec<ReceiptLine> {
    session
        .lines
        .iter()
        .filter_map(|l| {
            let price = store.price(&l.price)?;
            let name = store
                .product(&price.product)
                .map_or_else(|| "Item".to_owned(), |p| p.name.clone());
            Some(ReceiptLine {
                description: name,
                quantity: l.quantity,
                amount: price.unit_amount * l.quantity,
            })
        })
        .collect()
}

/// The payment method the charge shows, and when a bank debit settles.
fn instrument(store: &mut Store, method: Method<'_>) -> (Instrument, Option<(i64, Settlement)>) {
    match method {
        Method::Card(pm) => {
            let card = store.payment_method(pm);
            let instrument = Instrument {
                payment_method: pm.to_owned(),
                method_type: MethodType::Card,
                brand: card.map_or_else(|| "visa".to_owned(), |c| c.brand.clone()),
                last4: card.map_or_else(|| "4242".to_owned(), |c| c.last4.clone()),
            };
            (instrument, None)
        }
        Method::Bank(number, outcome) => {
            let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
            let instrument = Instrument {
                payment_method: store.id("pm"),
                method_type: MethodType::UsBankAccount,
                brand: TEST_BANK.to_owned(),
                last4: digits[digits.len().saturating_sub(4)..].iter().collect(),
            };
            (
                instrument,
                Some((store.now + BANK_SETTLEMENT_SECS, outcome)),
            )
        }
    }
}

/// Creates the session's PaymentIntent and its Charge through the same `intents` path as the
/// API: succeeded for a card (with `charge.succeeded` and `payment_intent.succeeded`),
/// processing/pending for a bank debit (no events until it settles). The card was charged
/// (or declined) before the session completed, so nothing here fails. Returns the intent id.
pub(crate) fn pay(
    store: &mut Store,
    session: &CheckoutSession,
    customer: Option<String>,
    method: Method<'_>,
) -> String {
    let (instrument, settles) = instrument(store, method);
    let payment_method = instrument.payment_method.clone();
    let pi = intents::open(
        store,
        NewIntent {
            amount: session.amount_total,
            currency: session.currency.clone(),
            customer,
            metadata: session.payment_intent_metadata.clone(),
            method_type: instrument.method_type,
            shipping: session.shipping_details.clone(),
            ..NewIntent::default()
        },
    );
    let charge = NewCharge {
        instrument,
        failure: None,
        settles,
        billing_email: store.checkout_email(session),
        lines: receipt_lines(store, session),
    };
    let ch = intents::add_charge(store, &pi, charge);
    let paid = settles.is_none();
    if let Some(intent) = store.payment_intent_mut(&pi) {
        intent.payment_method = Some(payment_method);
        intent.status = if paid {
            IntentStatus::Succeeded
        } else {
            IntentStatus::Processing
        };
    }
    if paid {
        emit_charge(store, "charge.succeeded", &ch);
        emit_intent(store, "payment_intent.succeeded", &pi);
    }
    pi
}

/// A bank debit has settled (or failed): update charge, intent and session, and tell the app.
pub(crate) fn settle_bank_debit(store: &mut Store, charge: &str) {
    let Some(c) = store.charge_mut(charge) else {
        return;
    };
    let Some((_, outcome)) = c.settles.take() else {
        return;
    };
    let succeeded = outcome == Settlement::Succeed;
    c.status = if succeeded {
        ChargeStatus::Succeeded
    } else {
        ChargeStatus::Failed
    };
    c.failure = (!succeeded).then_some(ACCOUNT_CLOSED);
    let pi = c.payment_intent.clone();
    if let Some(intent) = store.payment_intent_mut(&pi) {
        if succeeded {
            intent.status = IntentStatus::Succeeded;
        } else {
            intent.status = IntentStatus::RequiresPaymentMethod;
            intent.last_payment_error = Some(ACCOUNT_CLOSED);
            intent.payment_method = None;
        }
    }
    let session = store
        .sessions
        .iter_mut()
        .find(|s| s.payment_intent.as_deref() == Some(pi.as_str()));
    let session = session.map(|s| {
        if succeeded && s.status == SessionStatus::Complete {
            s.payment_status = "paid";
        }
        s.id.clone()
    });
    let (charge_event, intent_event, session_event) = if succeeded {
        (
            "charge.succeeded",
            "payment_intent.succeeded",
            "checkout.session.async_payment_succeeded",
        )
    } else {
        (
            "charge.failed",
            "payment_intent.payment_failed",
            "checkout.session.async_payment_failed",
        )
    };
    emit_charge(store, charge_event, charge);
    emit_intent(store, intent_event, &pi);
    if let Some(object) = session
        .as_deref()
        .and_then(|id| store.session(id))
        .map(|s| render_session(store, s))
    {
        store.emit(session_event, object, None);
    }
}
