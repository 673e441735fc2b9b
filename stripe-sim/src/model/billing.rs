//! Subscriptions, invoices and the prorations waiting for the next invoice.

use super::Meta;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubStatus {
    Trialing,
    Active,
    PastDue,
    Canceled,
    Incomplete,
    IncompleteExpired,
    Unpaid,
}

impl SubStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Trialing => "trialing",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Canceled => "canceled",
            Self::Incomplete => "incomplete",
            Self::IncompleteExpired => "incomplete_expired",
            Self::Unpaid => "unpaid",
        }
    }
    pub(crate) fn parse(s: &str) -> Option<Self> {
        [
            Self::Trialing,
            Self::Active,
            Self::PastDue,
            Self::Canceled,
            Self::Incomplete,
            Self::IncompleteExpired,
            Self::Unpaid,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
    pub(crate) fn is_live(self) -> bool {
        !matches!(self, Self::Canceled | Self::IncompleteExpired)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct SubItem {
    pub(crate) id: String,
    pub(crate) price: String,
    pub(crate) quantity: i64,
    pub(crate) created: i64,
    pub(crate) metadata: Meta,
}

#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    pub(crate) id: String,
    pub(crate) customer: String,
    pub(crate) status: SubStatus,
    pub(crate) items: Vec<SubItem>,
    pub(crate) current_period_start: i64,
    pub(crate) current_period_end: i64,
    pub(crate) cancel_at_period_end: bool,
    pub(crate) cancel_at: Option<i64>,
    pub(crate) canceled_at: Option<i64>,
    pub(crate) ended_at: Option<i64>,
    pub(crate) created: i64,
    pub(crate) start_date: i64,
    pub(crate) billing_cycle_anchor: i64,
    pub(crate) trial_start: Option<i64>,
    pub(crate) trial_end: Option<i64>,
    /// The `trial_end` that `customer.subscription.trial_will_end` was sent for (once per trial).
    pub(crate) trial_will_end_sent: Option<i64>,
    pub(crate) latest_invoice: Option<String>,
    pub(crate) default_payment_method: Option<String>,
    pub(crate) metadata: Meta,
    pub(crate) currency: String,
    pub(crate) description: Option<String>,
    pub(crate) cancellation_reason: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InvoiceStatus {
    Draft,
    Open,
    Paid,
}

impl InvoiceStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Open => "open",
            Self::Paid => "paid",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct InvoiceLine {
    pub(crate) id: String,
    pub(crate) amount: i64,
    pub(crate) description: String,
    pub(crate) price: Option<String>,
    pub(crate) quantity: i64,
    pub(crate) period_start: i64,
    pub(crate) period_end: i64,
    pub(crate) proration: bool,
    pub(crate) subscription_item: Option<String>,
    pub(crate) invoice_item: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Invoice {
    pub(crate) id: String,
    pub(crate) number: Option<String>,
    pub(crate) customer: String,
    pub(crate) subscription: Option<String>,
    pub(crate) status: InvoiceStatus,
    pub(crate) lines: Vec<InvoiceLine>,
    pub(crate) currency: String,
    pub(crate) created: i64,
    pub(crate) period_start: i64,
    pub(crate) period_end: i64,
    pub(crate) billing_reason: &'static str,
    pub(crate) amount_paid: i64,
    pub(crate) attempt_count: i64,
    pub(crate) attempted: bool,
    pub(crate) next_payment_attempt: Option<i64>,
    /// When the first automatic charge failed; the retry schedule counts from here.
    pub(crate) first_failed_at: Option<i64>,
    pub(crate) finalized_at: Option<i64>,
    pub(crate) paid_at: Option<i64>,
    pub(crate) voided_at: Option<i64>,
    pub(crate) customer_email: Option<String>,
    pub(crate) customer_name: Option<String>,
}

impl Invoice {
    pub(crate) fn total(&self) -> i64 {
        self.lines.iter().map(|l| l.amount).sum()
    }
}

/// A proration waiting for the subscription's next invoice.
#[derive(Debug, Clone)]
pub(crate) struct PendingItem {
    pub(crate) id: String,
    pub(crate) subscription: String,
    pub(crate) amount: i64,
    pub(crate) description: String,
    pub(crate) price: String,
    pub(crate) period_start: i64,
    pub(crate) period_end: i64,
}
