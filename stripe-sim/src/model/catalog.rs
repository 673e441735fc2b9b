//! Products, prices and their billing intervals.

use super::Meta;
use crate::time::{DAY, add_months};

#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) active: bool,
    pub(crate) created: i64,
    pub(crate) updated: i64,
    pub(crate) metadata: Meta,
    pub(crate) marketing_features: Vec<String>,
    pub(crate) default_price: Option<String>,
    pub(crate) images: Vec<String>,
    pub(crate) url: Option<String>,
    pub(crate) unit_label: Option<String>,
    pub(crate) statement_descriptor: Option<String>,
    /// Stripe Tax's product code (`txcd_…`); none means the account's preset (general goods).
    pub(crate) tax_code: Option<String>,
}

impl Product {
    /// An active product with nothing but a name; callers fill in the rest with
    /// `Product { field, ..Product::new(…) }`.
    pub(crate) fn new(id: String, name: String, now: i64) -> Self {
        Self {
            id,
            name,
            description: None,
            active: true,
            created: now,
            updated: now,
            metadata: Meta::new(),
            marketing_features: Vec::new(),
            default_price: None,
            images: Vec::new(),
            url: None,
            unit_label: None,
            statement_descriptor: None,
            tax_code: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Recurring {
    pub(crate) interval: String,
    pub(crate) interval_count: i64,
}

impl Recurring {
    /// Length of one period starting at `from`. Months and years follow the calendar
    /// (clamped to month end) so renewals land on the same day, like Stripe.
    pub(crate) fn period_end(&self, from: i64) -> i64 {
        match self.interval.as_str() {
            "day" => from + DAY * self.interval_count,
            "week" => from + 7 * DAY * self.interval_count,
            "year" => add_months(from, 12 * self.interval_count),
            _ => add_months(from, self.interval_count),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Price {
    pub(crate) id: String,
    pub(crate) product: String,
    pub(crate) active: bool,
    pub(crate) currency: String,
    /// Minor units (cents).
    pub(crate) unit_amount: i64,
    pub(crate) recurring: Option<Recurring>,
    pub(crate) lookup_key: Option<String>,
    pub(crate) nickname: Option<String>,
    pub(crate) metadata: Meta,
    pub(crate) created: i64,
    pub(crate) tax_behavior: String,
}
