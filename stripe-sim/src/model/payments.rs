//! One-time payments: PaymentIntents, their Charges and Refunds. Both payment engines (hosted
//! Checkout's payment mode and the PaymentIntents API) build intents and charges through
//! [`PaymentIntent::new`] and [`Charge::new`].

use super::Meta;
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntentStatus {
    RequiresPaymentMethod,
    /// Waiting for the customer's 3-D Secure step (`next_action`).
    RequiresAction,
    Processing,
    Succeeded,
    Canceled,
}

impl IntentStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::RequiresPaymentMethod => "requires_payment_method",
            Self::RequiresAction => "requires_action",
            Self::Processing => "processing",
            Self::Succeeded => "succeeded",
            Self::Canceled => "canceled",
        }
    }
}

/// Why the last attempt failed (`last_payment_error`, `failure_code`/`failure_message`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PaymentError {
    /// `card_error` or `invalid_request_error`.
    pub(crate) kind: &'static str,
    pub(crate) code: &'static str,
    pub(crate) decline_code: Option<&'static str>,
    pub(crate) message: &'static str,
}

impl PaymentError {
    /// The 402 card error a declined payment answers with (hosted pages, confirm, renewals).
    pub(crate) fn card_error(&self) -> ApiError {
        ApiError::card(self.code, self.decline_code, self.message).with_doc_url(self.code)
    }
}

/// What the creator of a PaymentIntent chooses; everything else starts empty.
#[derive(Debug, Default)]
pub(crate) struct NewIntent {
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) customer: Option<String>,
    pub(crate) metadata: Meta,
    pub(crate) description: Option<String>,
    pub(crate) receipt_email: Option<String>,
    pub(crate) automatic_payment_methods: bool,
    pub(crate) method_type: MethodType,
    pub(crate) shipping: Option<super::ShippingDetails>,
    pub(crate) tax_calculation: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct PaymentIntent {
    pub(crate) id: String,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) customer: Option<String>,
    pub(crate) status: IntentStatus,
    pub(crate) latest_charge: Option<String>,
    /// Cleared when the payment fails (it then lives on in `last_payment_error`).
    pub(crate) payment_method: Option<String>,
    pub(crate) method_type: MethodType,
    pub(crate) metadata: Meta,
    pub(crate) last_payment_error: Option<PaymentError>,
    pub(crate) created: i64,
    /// `pi_…_secret_…`: what Stripe.js (a publishable key) must show to confirm.
    pub(crate) client_secret: String,
    pub(crate) description: Option<String>,
    pub(crate) receipt_email: Option<String>,
    /// Created with `automatic_payment_methods[enabled]=true`.
    pub(crate) automatic_payment_methods: bool,
    pub(crate) canceled_at: Option<i64>,
    pub(crate) cancellation_reason: Option<String>,
    /// While `requires_action`: the hosted 3-D Secure page and where it returns to.
    pub(crate) next_action: Option<NextAction>,
    pub(crate) shipping: Option<super::ShippingDetails>,
    /// `hooks[inputs][tax][calculation]`: the tax this intent's amount includes.
    pub(crate) tax_calculation: Option<String>,
}

impl PaymentIntent {
    /// A new intent in `requires_payment_method`, not yet confirmed or charged.
    pub(crate) fn new(id: String, client_secret: String, created: i64, new: NewIntent) -> Self {
        Self {
            id,
            amount: new.amount,
            currency: new.currency,
            customer: new.customer,
            status: IntentStatus::RequiresPaymentMethod,
            latest_charge: None,
            payment_method: None,
            method_type: new.method_type,
            metadata: new.metadata,
            last_payment_error: None,
            created,
            client_secret,
            description: new.description,
            receipt_email: new.receipt_email,
            automatic_payment_methods: new.automatic_payment_methods,
            canceled_at: None,
            cancellation_reason: None,
            next_action: None,
            shipping: new.shipping,
            tax_calculation: new.tax_calculation,
        }
    }
}

/// `next_action.redirect_to_url` of an intent waiting for 3-D Secure.
#[derive(Debug, Clone)]
pub(crate) struct NextAction {
    pub(crate) url: String,
    pub(crate) return_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum MethodType {
    #[default]
    Card,
    UsBankAccount,
}

impl MethodType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Card => "card",
            Self::UsBankAccount => "us_bank_account",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChargeStatus {
    Pending,
    Succeeded,
    Failed,
}

impl ChargeStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// What a test bank account does when its debit settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settlement {
    Succeed,
    Fail,
}

/// One line of what was bought, for the receipt page.
#[derive(Debug, Clone)]
pub(crate) struct ReceiptLine {
    pub(crate) description: String,
    pub(crate) quantity: i64,
    pub(crate) amount: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Charge {
    pub(crate) id: String,
    pub(crate) amount: i64,
    pub(crate) amount_refunded: i64,
    pub(crate) currency: String,
    pub(crate) customer: Option<String>,
    pub(crate) payment_intent: String,
    pub(crate) payment_method: String,
    pub(crate) method_type: MethodType,
    /// Card brand (`visa`, …) or the bank name.
    pub(crate) brand: String,
    pub(crate) last4: String,
    pub(crate) status: ChargeStatus,
    pub(crate) failure: Option<PaymentError>,
    pub(crate) metadata: Meta,
    pub(crate) billing_email: Option<String>,
    pub(crate) lines: Vec<ReceiptLine>,
    /// Refund ids, oldest first.
    pub(crate) refunds: Vec<String>,
    /// A bank debit settles (or fails) at this time, with this outcome.
    pub(crate) settles: Option<(i64, Settlement)>,
    pub(crate) created: i64,
    /// The intent's `shipping`, as Stripe copies it to the charge.
    pub(crate) shipping: Option<super::ShippingDetails>,
}

/// The payment method a charge shows.
#[derive(Debug, Clone)]
pub(crate) struct Instrument {
    pub(crate) payment_method: String,
    pub(crate) method_type: MethodType,
    /// Card brand (`visa`, …) or the bank name.
    pub(crate) brand: String,
    pub(crate) last4: String,
}

/// What a new Charge records besides its intent's amount, currency, customer and metadata.
#[derive(Debug)]
pub(crate) struct NewCharge {
    pub(crate) instrument: Instrument,
    /// Why it failed; `None` for a charge that succeeded or is pending.
    pub(crate) failure: Option<PaymentError>,
    /// A bank debit that settles (or fails) later: the charge is pending until then.
    pub(crate) settles: Option<(i64, Settlement)>,
    pub(crate) billing_email: Option<String>,
    pub(crate) lines: Vec<ReceiptLine>,
}

impl Charge {
    /// A charge of `intent`'s whole amount: failed with `new.failure`, else pending while a
    /// debit is to settle, else succeeded.
    pub(crate) fn new(id: String, intent: &PaymentIntent, new: NewCharge, created: i64) -> Self {
        let status = match (&new.failure, new.settles) {
            (Some(_), _) => ChargeStatus::Failed,
            (None, Some(_)) => ChargeStatus::Pending,
            (None, None) => ChargeStatus::Succeeded,
        };
        Self {
            id,
            amount: intent.amount,
            amount_refunded: 0,
            currency: intent.currency.clone(),
            customer: intent.customer.clone(),
            payment_intent: intent.id.clone(),
            payment_method: new.instrument.payment_method,
            method_type: new.instrument.method_type,
            brand: new.instrument.brand,
            last4: new.instrument.last4,
            status,
            failure: new.failure,
            metadata: intent.metadata.clone(),
            billing_email: new.billing_email,
            lines: new.lines,
            refunds: Vec::new(),
            settles: new.settles,
            created,
            shipping: intent.shipping.clone(),
        }
    }

    pub(crate) fn captured(&self) -> bool {
        self.status != ChargeStatus::Failed
    }
    pub(crate) fn remaining(&self) -> i64 {
        self.amount - self.amount_refunded
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Refund {
    pub(crate) id: String,
    pub(crate) amount: i64,
    pub(crate) charge: String,
    pub(crate) payment_intent: String,
    pub(crate) currency: String,
    pub(crate) customer: Option<String>,
    pub(crate) reason: Option<String>,
    pub(crate) metadata: Meta,
    pub(crate) created: i64,
}
