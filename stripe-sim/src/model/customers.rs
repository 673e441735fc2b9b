//! Customers and their saved cards.

use super::Meta;
use super::payments::PaymentError;

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

/// How a test card behaves (the table is `billing::test_cards::TEST_CARDS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CardBehavior {
    Succeed,
    /// Needs a 3-D Secure step first; charges after that succeed.
    Authenticate,
    /// Every charge is declined with this error.
    Decline(&'static PaymentError),
    /// On-session charges (hosted pages, confirm) succeed; off-session renewals are declined
    /// with this error.
    DeclineOffSession(&'static PaymentError),
}

impl CardBehavior {
    /// The decline a charge with this card gets, if any.
    pub(crate) fn decline(self, on_session: bool) -> Option<&'static PaymentError> {
        match self {
            Self::Succeed | Self::Authenticate => None,
            Self::Decline(error) => Some(error),
            Self::DeclineOffSession(error) => (!on_session).then_some(error),
        }
    }
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
