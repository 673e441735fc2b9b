//! Coupons and promotion codes (the codes customers type), applied to payment-mode Checkout.

use super::Meta;

#[derive(Debug, Clone)]
pub(crate) struct Coupon {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    /// `percent_off` in hundredths of a percent (25.5 % is 2550), so money stays integral.
    pub(crate) percent_off_bp: Option<i64>,
    pub(crate) amount_off: Option<i64>,
    pub(crate) currency: Option<String>,
    /// `once`, `repeating` or `forever` (what a subscription would do; a payment takes it once).
    pub(crate) duration: String,
    pub(crate) duration_in_months: Option<i64>,
    pub(crate) max_redemptions: Option<i64>,
    pub(crate) redeem_by: Option<i64>,
    pub(crate) times_redeemed: i64,
    pub(crate) metadata: Meta,
    pub(crate) created: i64,
}

impl Coupon {
    /// Whether it can still be redeemed at `now`.
    pub(crate) fn valid(&self, now: i64) -> bool {
        self.redeem_by.is_none_or(|by| now < by)
            && self
                .max_redemptions
                .is_none_or(|max| self.times_redeemed < max)
    }

    /// What it takes off `subtotal` (minor units of `currency`): a percentage rounded half up to
    /// the minor unit, or its amount (never more than the subtotal, and only in its currency).
    pub(crate) fn discount_on(&self, subtotal: i64, currency: &str) -> i64 {
        match (self.percent_off_bp, self.amount_off) {
            (Some(bp), _) => (subtotal * bp + 5_000) / 10_000,
            (None, Some(amount)) if self.currency.as_deref() == Some(currency) => {
                amount.min(subtotal)
            }
            _ => 0,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct PromotionCode {
    pub(crate) id: String,
    pub(crate) code: String,
    pub(crate) coupon: String,
    pub(crate) active: bool,
    pub(crate) max_redemptions: Option<i64>,
    pub(crate) times_redeemed: i64,
    pub(crate) expires_at: Option<i64>,
    pub(crate) first_time_transaction: bool,
    pub(crate) minimum_amount: Option<i64>,
    pub(crate) minimum_amount_currency: Option<String>,
    pub(crate) customer: Option<String>,
    pub(crate) metadata: Meta,
    pub(crate) created: i64,
}

impl PromotionCode {
    /// Why it cannot be used now on a `subtotal` in `currency`, in the words of Stripe's page.
    pub(crate) fn refusal(&self, now: i64, subtotal: i64, currency: &str) -> Option<&'static str> {
        if !self.active {
            return Some("This code is invalid.");
        }
        if self.expires_at.is_some_and(|at| now >= at) {
            return Some("This code has expired.");
        }
        if self
            .max_redemptions
            .is_some_and(|max| self.times_redeemed >= max)
        {
            return Some("This code has already been used the maximum number of times.");
        }
        match (self.minimum_amount, self.minimum_amount_currency.as_deref()) {
            (Some(min), Some(c)) if c == currency && subtotal < min => {
                Some("This code requires a larger order.")
            }
            _ => None,
        }
    }
}
