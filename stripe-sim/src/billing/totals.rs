//! A Checkout Session's money, worked out in one place whenever something it depends on changes
//! (created, a discount, a shipping address or rate): the goods' subtotal, the discount shared
//! over the lines, shipping, and with `automatic_tax` the tax of each line and of shipping from
//! the sim's rate table. `amount_total` = subtotal − discount + shipping + the exclusive tax.

use super::tax::{tax_of, taxation};
use crate::render::checkout::line_shares;
use crate::store::Store;

/// Where tax is charged when the page collects no shipping address: the account's country (the
/// sim's hosted page asks for no billing address).
const DEFAULT_TAX_COUNTRY: &str = "US";

/// A line's amount and how it is taxed: (amount, tax code, inclusive).
type PricedLine = (i64, Option<String>, bool);

pub(crate) fn recompute(store: &mut Store, id: &str) {
    let Some(s) = store.session(id) else {
        return;
    };
    let lines: Vec<PricedLine> = s
        .lines
        .iter()
        .map(|l| {
            let price = store.price(&l.price);
            let amount = price.map_or(0, |p| p.unit_amount * l.quantity);
            let code = price
                .and_then(|p| store.product(&p.product))
                .and_then(|p| p.tax_code.clone());
            let inclusive = price.is_some_and(|p| p.tax_behavior == "inclusive");
            (amount, code, inclusive)
        })
        .collect();
    let amounts: Vec<i64> = lines.iter().map(|(amount, _, _)| *amount).collect();
    let shares = line_shares(s.amount_discount, &amounts);
    let shipping = s.amount_shipping();
    let shipping_inclusive = s
        .shipping_rate
        .as_ref()
        .and_then(|(rate, _)| store.shipping_rate(rate))
        .is_some_and(|r| r.tax_behavior == "inclusive");
    let country = s
        .shipping_details
        .as_ref()
        .and_then(|d| d.address.country.clone())
        .or_else(|| {
            s.shipping_countries
                .is_none()
                .then(|| DEFAULT_TAX_COUNTRY.to_owned())
        });
    let (line_taxes, shipping_tax, exclusive) = match (s.automatic_tax, &country) {
        (true, Some(country)) => {
            let mut exclusive = 0;
            let mut taxes = Vec::new();
            for ((amount, code, inclusive), share) in lines.iter().zip(&shares) {
                let rate = taxation(country, None, code.as_deref(), false).rate_mp;
                let tax = tax_of(amount - share, rate, *inclusive);
                if !inclusive {
                    exclusive += tax;
                }
                taxes.push(tax);
            }
            let rate = taxation(country, None, Some("txcd_92010001"), false).rate_mp;
            let shipping_tax = tax_of(shipping, rate, shipping_inclusive);
            if !shipping_inclusive {
                exclusive += shipping_tax;
            }
            (taxes, shipping_tax, exclusive)
        }
        _ => (vec![0; lines.len()], 0, 0),
    };
    let subtotal: i64 = amounts.iter().sum();
    let located = country.is_some();
    if let Some(s) = store.session_mut(id) {
        s.amount_subtotal = subtotal;
        s.line_taxes = line_taxes;
        s.shipping_tax = shipping_tax;
        s.amount_tax = s.line_taxes.iter().sum::<i64>() + shipping_tax;
        s.tax_located = located;
        s.amount_total = subtotal - s.amount_discount + shipping + exclusive;
    }
}
