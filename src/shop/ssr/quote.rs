//! Paying on our own page with shipping, a promotion code and tax (issue 22). The buyer's address,
//! rate and code are kept in the session (`PayDetails`); `Shop::quote` prices the cart with them:
//! the rate from `SHIPPING_RATES`, the code checked against Stripe's promotion codes, and with
//! `STRIPE_TAX=on` the tax from a Stripe Tax Calculation, whose total the PaymentIntent charges.

use super::Shop;
use super::pay_details::PayDetails;
use super::payment::{OrderLine, total_of};
use crate::db::now_unix;
use crate::domain::ShippingAddress;
use crate::error::{AppError, AppResult};
use crate::shop::{ADDRESS_NEEDED, CANNOT_SHIP_THERE, CODE_NOT_VALID};
use crate::stripe_gateway::{PromotionRecord, TaxLine};

/// The cart priced with the buyer's details, in minor units of `currency`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quote {
    pub currency: String,
    pub subtotal: i64,
    pub discount: i64,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
    /// The rate charged and its delivery estimate, for goods sent by post.
    pub rate: Option<(String, Option<String>)>,
    pub address: Option<ShippingAddress>,
    /// The code that was applied, as Stripe spells it.
    pub promotion_code: Option<String>,
    pub tax_calculation: Option<String>,
    /// Why the cart cannot be paid yet (an address is needed), or why the code was not applied.
    pub missing: Option<&'static str>,
    pub code_refused: Option<&'static str>,
    /// Every rate offered, name and amount, for the form.
    pub offered: Vec<(String, i64)>,
    pub ships: bool,
}

impl Shop {
    /// Prices `lines` with `details`; asks Stripe for the code and, with tax on, the tax.
    pub(super) async fn quote(
        &self,
        lines: &[OrderLine<'_>],
        currency: &str,
        details: &PayDetails,
    ) -> AppResult<Quote> {
        let subtotal = total_of(lines);
        let offer = self.shipping_offer(lines, currency)?;
        let mut quote = Quote {
            currency: currency.to_owned(),
            subtotal,
            ships: offer.is_some(),
            address: details.address(),
            ..Quote::default()
        };
        if let Some(offer) = &offer {
            quote.offered = offer
                .rates
                .iter()
                .map(|(r, amount)| (r.name.clone(), *amount))
                .collect();
            let chosen = offer
                .rates
                .iter()
                .find(|(r, _)| r.name == details.rate)
                .or(offer.rates.first());
            if let Some((rate, amount)) = chosen {
                quote.shipping = *amount;
                quote.rate = Some((rate.name.clone(), rate.delivery.map(|d| d.to_string())));
            }
            if let Some(address) = &quote.address
                && !offer
                    .countries
                    .iter()
                    .any(|c| c.as_str() == address.country)
            {
                return Err(AppError::Invalid(CANNOT_SHIP_THERE.into()));
            }
        }
        if !details.code.trim().is_empty() {
            match self
                .gateway
                .promotion_code_named(details.code.trim())
                .await?
            {
                Some(promo) => match discount_of(&promo, subtotal, currency, now_unix()) {
                    Some(discount) => {
                        quote.discount = discount;
                        quote.promotion_code = Some(promo.code);
                    }
                    None => quote.code_refused = Some(CODE_NOT_VALID),
                },
                None => quote.code_refused = Some(CODE_NOT_VALID),
            }
        }
        let needs_address = quote.ships || self.config.selling.automatic_tax;
        if needs_address && quote.address.is_none() {
            quote.missing = Some(ADDRESS_NEEDED);
        }
        let untaxed = subtotal - quote.discount + quote.shipping;
        quote.total = untaxed;
        if let (true, Some(address)) = (self.config.selling.automatic_tax, &quote.address) {
            let taxed = self
                .gateway
                .calculate_tax(
                    currency,
                    &tax_lines(lines, quote.discount),
                    quote.shipping,
                    address,
                )
                .await?;
            quote.tax = taxed.tax;
            quote.total = taxed.total;
            quote.tax_calculation = Some(taxed.calculation_id);
        }
        Ok(quote)
    }
}

/// What a promotion code takes off `subtotal`, if it may be used now: active, not expired, not
/// used up, its minimum met and its coupon in the order's currency. Percentages round half up.
pub(super) fn discount_of(
    promo: &PromotionRecord,
    subtotal: i64,
    currency: &str,
    now: i64,
) -> Option<i64> {
    let usable = promo.active
        && promo.coupon_valid
        && promo.expires_at.is_none_or(|at| at > now)
        && promo
            .max_redemptions
            .is_none_or(|max| promo.times_redeemed < max)
        && promo
            .minimum_amount
            .as_ref()
            .is_none_or(|(min, c)| c.eq_ignore_ascii_case(currency) && subtotal >= *min);
    if !usable {
        return None;
    }
    match (&promo.amount_off, promo.percent_off_bp) {
        (Some((amount, c)), _) if c.eq_ignore_ascii_case(currency) => Some((*amount).min(subtotal)),
        (Some(_), _) => None,
        (None, Some(bp)) => Some(((subtotal * bp + 5_000) / 10_000).min(subtotal)),
        (None, None) => None,
    }
}

/// The lines as Stripe Tax sees them: each after its share of the discount (in proportion to its
/// amount; the rest of the rounding on the last line).
fn tax_lines(lines: &[OrderLine<'_>], discount: i64) -> Vec<TaxLine> {
    let subtotal = total_of(lines).max(1);
    let mut left = discount;
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let amount = line.good.money.amount * line.quantity;
            let share = if i + 1 == lines.len() {
                left
            } else {
                discount * amount / subtotal
            };
            left -= share;
            TaxLine {
                amount: amount - share,
                quantity: line.quantity,
                reference: line.good.price_id.to_string(),
                product: line.good.product_id.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn promo() -> PromotionRecord {
        PromotionRecord {
            id: "promo_1".into(),
            code: "TEN".into(),
            active: true,
            expires_at: None,
            max_redemptions: None,
            times_redeemed: 0,
            minimum_amount: None,
            percent_off_bp: Some(1_000),
            amount_off: None,
            coupon_valid: true,
        }
    }

    #[test]
    fn a_code_takes_off_what_its_coupon_says_only_while_it_may_be_used() {
        assert_eq!(discount_of(&promo(), 4_900, "usd", 0), Some(490));
        let eighth = PromotionRecord {
            percent_off_bp: Some(1_250),
            ..promo()
        };
        assert_eq!(
            discount_of(&eighth, 1_900, "usd", 0),
            Some(238),
            "237.5 rounds up"
        );
        let fixed = PromotionRecord {
            percent_off_bp: None,
            amount_off: Some((700, "usd".into())),
            ..promo()
        };
        assert_eq!(
            discount_of(&fixed, 500, "usd", 0),
            Some(500),
            "never more than the goods"
        );
        assert_eq!(
            discount_of(&fixed, 5_000, "jpy", 0),
            None,
            "another currency"
        );
        let expired = PromotionRecord {
            expires_at: Some(10),
            ..promo()
        };
        assert_eq!(discount_of(&expired, 4_900, "usd", 11), None);
        let used_up = PromotionRecord {
            max_redemptions: Some(1),
            times_redeemed: 1,
            ..promo()
        };
        assert_eq!(discount_of(&used_up, 4_900, "usd", 0), None);
        let minimum = PromotionRecord {
            minimum_amount: Some((5_000, "usd".into())),
            ..promo()
        };
        assert_eq!(discount_of(&minimum, 4_900, "usd", 0), None);
        assert_eq!(discount_of(&minimum, 5_000, "usd", 0), Some(500));
    }
}
