//! `Sim::act()`: what a buyer does on the hosted pages, or an operator in the Dashboard, done
//! directly by a test; each has the same effects and events as the page or the API call.

use crate::billing;
use crate::billing::checkout::PayOutcome;
use crate::error::ApiError;
use crate::shared::Shared;

/// Actions as if from the hosted pages or the Dashboard.
pub struct Actions<'a> {
    pub(crate) shared: &'a Shared,
}

impl Actions<'_> {
    /// Pays a Checkout Session as the hosted page would (`card` is a test card number).
    pub fn pay_checkout(
        &self,
        session: &str,
        email: Option<&str>,
        card: &str,
    ) -> Result<PayOutcome, ApiError> {
        self.shared
            .with(|store| billing::checkout::pay(store, session, email, card))
    }

    /// The hosted page's shipping step: the address (for a session that collects one) and the
    /// rate, as the buyer enters them before paying.
    pub fn choose_shipping(
        &self,
        session: &str,
        choice: &billing::shipping::ShippingChoice,
    ) -> Result<(), ApiError> {
        self.shared
            .with(|store| billing::shipping::choose(store, session, choice))
    }

    /// Whether the hosted page shows its shipping step before the card form, as a buyer sees it.
    pub fn asks_for_shipping(&self, session: &str) -> bool {
        self.shared.with(|store| {
            store
                .session(session)
                .is_some_and(|s| s.needs_shipping_step())
        })
    }

    /// Types a promotion code into the hosted page's box (`allow_promotion_codes`).
    pub fn apply_promotion_code(&self, session: &str, code: &str) -> Result<(), ApiError> {
        self.shared
            .with(|store| billing::discounts::apply_code(store, session, code))
    }

    /// Pays a payment-mode Checkout Session with a US bank account as the hosted page's second
    /// form would: `000123456789` settles 60 s (sim clock) later, `000111111113` fails then
    /// (account closed); other numbers are refused. The session completes at once, unpaid.
    pub fn pay_checkout_with_bank(
        &self,
        session: &str,
        email: Option<&str>,
        account_number: &str,
    ) -> Result<PayOutcome, ApiError> {
        self.shared
            .with(|store| billing::checkout::pay_bank(store, session, email, account_number))
    }

    /// Completes (or fails) the 3-D Secure step of a session paid with 4000000000003220.
    pub fn authenticate_checkout(
        &self,
        session: &str,
        approve: bool,
    ) -> Result<PayOutcome, ApiError> {
        self.shared
            .with(|store| billing::checkout::authenticate(store, session, approve))
    }

    /// Confirms PaymentIntent `pi` with a new card PaymentMethod (a test card number), as
    /// `POST /v1/payment_methods` then `…/confirm` would; returns the intent's status
    /// (`succeeded`, or `requires_action` for 3155/3220). A decline is the 402 card error,
    /// whose `detail("payment_intent")` is the intent.
    pub fn confirm_intent(&self, pi: &str, card: &str) -> Result<String, ApiError> {
        self.shared
            .with(|store| billing::confirm::with_card(store, pi, card))
    }

    /// Completes (`true`) or fails the 3-D Secure step of PaymentIntent `pi`, as the buttons
    /// of the hosted challenge page do; returns the intent's new status.
    pub fn authenticate_intent(&self, pi: &str, complete: bool) -> Result<String, ApiError> {
        self.shared.with(|store| {
            billing::confirm::authenticate(store, pi, complete)?;
            Ok(billing::confirm::status(store, pi))
        })
    }

    /// Refunds `amount` (default: all that is left) of a succeeded PaymentIntent, as
    /// `POST /v1/refunds` would; returns the `re_…` id.
    pub fn refund(&self, payment_intent: &str, amount: Option<i64>) -> Result<String, ApiError> {
        self.shared.with(|store| {
            billing::refunds::create(
                store,
                billing::refunds::NewRefund {
                    payment_intent: Some(payment_intent.to_owned()),
                    amount,
                    ..Default::default()
                },
            )
        })
    }

    /// Deletes a customer as if from the Dashboard: same effects and events as
    /// `DELETE /v1/customers/{id}`.
    pub fn delete_customer(&self, id: &str) -> Result<(), ApiError> {
        self.shared
            .with(|store| billing::customers::delete_customer(store, id))
            .map(|_| ())
    }
}
