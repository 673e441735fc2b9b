//! Customers and their saved cards.

use serde::Serialize;

use super::Meta;

#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub(crate) id: String,
    pub(crate) email: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) metadata: Meta,
    pub(crate) created: i64,
    pub(crate) default_payment_method: Option<String>,
    pub(crate) invoice_prefix: String,
    pub(crate) next_invoice_sequence: i64,
    pub(crate) currency: Option<String>,
    pub(crate) delinquent: bool,
}

/// How a test card behaves (see `billing::payments::card_behavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CardBehavior {
    Succeed,
    Decline,
    InsufficientFunds,
    /// Needs a 3-D Secure step on the hosted page; charges after that succeed.
    Authenticate,
    /// Succeeds on the first (on-session) charge, declines every off-session renewal.
    FailOffSession,
}

#[derive(Debug, Clone)]
pub(crate) struct PaymentMethod {
    pub(crate) id: String,
    pub(crate) customer: Option<String>,
    pub(crate) last4: String,
    pub(crate) brand: String,
    pub(crate) exp_month: i64,
    pub(crate) exp_year: i64,
    pub(crate) behavior: CardBehavior,
    pub(crate) created: i64,
}
