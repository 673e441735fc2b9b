//! Tax calculations (`tax.calculation`): what tax an order would carry, from the sim's rate table.

use super::Address;

/// How one amount is taxed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Taxation {
    /// Thousandths of a percent.
    pub(crate) rate_mp: i64,
    pub(crate) tax_type: &'static str,
    pub(crate) reason: &'static str,
    pub(crate) country: String,
    pub(crate) state: Option<String>,
}

impl Taxation {
    /// `"7.25"`, as Stripe writes `percentage_decimal`.
    pub(crate) fn percentage_decimal(&self) -> String {
        let whole = self.rate_mp / 1000;
        let fraction = self.rate_mp % 1000;
        if fraction == 0 {
            format!("{whole}.0")
        } else {
            format!("{whole}.{fraction:03}")
                .trim_end_matches('0')
                .to_owned()
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct TaxLine {
    pub(crate) id: String,
    /// The line's amount (unit amount × quantity), minor units.
    pub(crate) amount: i64,
    pub(crate) quantity: i64,
    pub(crate) reference: Option<String>,
    pub(crate) product: Option<String>,
    pub(crate) tax_behavior: String,
    pub(crate) tax_code: String,
    pub(crate) amount_tax: i64,
    pub(crate) taxation: Taxation,
}

#[derive(Debug, Clone)]
pub(crate) struct TaxedShipping {
    pub(crate) amount: i64,
    pub(crate) tax_behavior: String,
    pub(crate) tax_code: String,
    pub(crate) amount_tax: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct TaxCalculation {
    pub(crate) id: String,
    pub(crate) currency: String,
    pub(crate) customer: Option<String>,
    pub(crate) address: Address,
    pub(crate) address_source: String,
    pub(crate) tax_ids: Vec<(String, String)>,
    pub(crate) lines: Vec<TaxLine>,
    pub(crate) shipping: Option<TaxedShipping>,
    pub(crate) created: i64,
    pub(crate) expires_at: i64,
}

impl TaxCalculation {
    fn taxes(&self, inclusive: bool) -> i64 {
        let lines = self
            .lines
            .iter()
            .filter(|l| (l.tax_behavior == "inclusive") == inclusive)
            .map(|l| l.amount_tax);
        let shipping = self
            .shipping
            .iter()
            .filter(|s| (s.tax_behavior == "inclusive") == inclusive)
            .map(|s| s.amount_tax);
        lines.chain(shipping).sum()
    }

    pub(crate) fn tax_amount_exclusive(&self) -> i64 {
        self.taxes(false)
    }

    pub(crate) fn tax_amount_inclusive(&self) -> i64 {
        self.taxes(true)
    }

    /// What the customer pays: the lines and shipping, plus the tax not already inside them.
    pub(crate) fn amount_total(&self) -> i64 {
        let lines: i64 = self.lines.iter().map(|l| l.amount).sum();
        let shipping = self.shipping.as_ref().map_or(0, |s| s.amount);
        lines + shipping + self.tax_amount_exclusive()
    }
}
