//! Payment-mode Checkout: the PaymentIntent and Charge a paid session creates, and bank debits
//! (US bank account test numbers) that settle on the clock 60 s after the session completed.

use crate::error::ApiError;
use crate::model::{
    Charge, ChargeStatus, CheckoutSession, IntentStatus, MethodType, PaymentError, PaymentIntent,
    ReceiptLine, SessionStatus, Settlement,
};
use crate::render::checkout::session as render_session;
use crate::render::payments as render;
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

/// The payment method a charge shows.
struct Instrument {
    method_type: MethodType,
    payment_method: String,
    /// Card brand, or the bank's name.
    brand: String,
    last4: String,
    settles: Option<(i64, Settlement)>,
}

fn instrument(store: &mut Store, method: Method<'_>) -> Instrument {
    match method {
        Method::Card(pm) => {
            let card = store.payment_method(pm);
            Instrument {
                method_type: MethodType::Card,
                payment_method: pm.to_owned(),
                brand: card.map_or_else(|| "visa".to_owned(), |c| c.brand.clone()),
                last4: card.map_or_else(|| "4242".to_owned(), |c| c.last4.clone()),
                settles: None,
            }
        }
        Method::Bank(number, outcome) => {
            let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
            let last4 = digits[digits.len().saturating_sub(4)..].iter().collect();
            Instrument {
                method_type: MethodType::UsBankAccount,
                payment_method: store.id("pm"),
                brand: TEST_BANK.to_owned(),
                last4,
                settles: Some((store.now + BANK_SETTLEMENT_SECS, outcome)),
            }
        }
    }
}

/// Creates the session's PaymentIntent and its Charge: succeeded for a card (with
/// `charge.succeeded` and `payment_intent.succeeded`), processing/pending for a bank debit
/// (no events until it settles). Returns the PaymentIntent id.
pub(crate) fn pay(
    store: &mut Store,
    session: &CheckoutSession,
    customer: Option<String>,
    method: Method<'_>,
) -> String {
    let now = store.now;
    let (pi_id, ch_id) = (store.id("pi"), store.id("ch"));
    let client_secret = store.client_secret(&pi_id);
    let Instrument {
        method_type,
        payment_method,
        brand,
        last4,
        settles,
    } = instrument(store, method);
    let paid = settles.is_none();
    let (charge_status, intent_status) = if paid {
        (ChargeStatus::Succeeded, IntentStatus::Succeeded)
    } else {
        (ChargeStatus::Pending, IntentStatus::Processing)
    };
    store.charges.push(Charge {
        id: ch_id.clone(),
        amount: session.amount_total,
        amount_refunded: 0,
        currency: session.currency.clone(),
        customer: customer.clone(),
        payment_intent: pi_id.clone(),
        payment_method: payment_method.clone(),
        method_type,
        brand,
        last4,
        status: charge_status,
        failure: None,
        metadata: session.payment_intent_metadata.clone(),
        billing_email: store.checkout_email(session),
        lines: receipt_lines(store, session),
        refunds: Vec::new(),
        settles,
        created: now,
    });
    store.payment_intents.push(PaymentIntent {
        id: pi_id.clone(),
        amount: session.amount_total,
        currency: session.currency.clone(),
        customer,
        status: intent_status,
        latest_charge: Some(ch_id.clone()),
        payment_method: Some(payment_method),
        method_type,
        metadata: session.payment_intent_metadata.clone(),
        last_payment_error: None,
        created: now,
        client_secret,
        description: None,
        receipt_email: None,
        automatic_payment_methods: false,
        canceled_at: None,
        cancellation_reason: None,
        next_action: None,
    });
    if paid {
        emit_charge(store, "charge.succeeded", &ch_id);
        emit_intent(store, "payment_intent.succeeded", &pi_id);
    }
    pi_id
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
