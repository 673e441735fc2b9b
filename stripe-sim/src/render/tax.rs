//! JSON for tax calculations and their line items.

use serde_json::{Value, json};

use super::shipping::address;
use crate::model::{TaxCalculation, TaxLine, Taxation};

fn rate_details(t: &Taxation) -> Value {
    json!({
        "country": t.country,
        "flat_amount": null,
        "percentage_decimal": t.percentage_decimal(),
        "rate_type": "percentage",
        "state": t.state,
        "tax_type": t.tax_type,
    })
}

pub(crate) fn line_item(l: &TaxLine) -> Value {
    json!({
        "id": l.id,
        "object": "tax.calculation_line_item",
        "amount": l.amount,
        "amount_tax": l.amount_tax,
        "livemode": false,
        "metadata": null,
        "product": l.product,
        "quantity": l.quantity,
        "reference": l.reference,
        "tax_behavior": l.tax_behavior,
        "tax_code": l.tax_code,
    })
}

pub(crate) fn calculation(c: &TaxCalculation) -> Value {
    // One entry per rate, reason and behaviour, as Stripe sums its breakdown.
    let mut groups: Vec<(&Taxation, bool, i64, i64)> = Vec::new();
    for l in &c.lines {
        let inclusive = l.tax_behavior == "inclusive";
        let taxable = if l.taxation.rate_mp > 0 { l.amount } else { 0 };
        match groups
            .iter_mut()
            .find(|(t, i, _, _)| *t == &l.taxation && *i == inclusive)
        {
            Some(group) => {
                group.2 += l.amount_tax;
                group.3 += taxable;
            }
            None => groups.push((&l.taxation, inclusive, l.amount_tax, taxable)),
        }
    }
    let breakdown: Vec<Value> = groups
        .into_iter()
        .map(|(taxation, inclusive, amount, taxable)| {
            json!({
                "amount": amount,
                "inclusive": inclusive,
                "tax_rate_details": rate_details(taxation),
                "taxability_reason": taxation.reason,
                "taxable_amount": taxable,
            })
        })
        .collect();
    json!({
        "id": c.id,
        "object": "tax.calculation",
        "amount_total": c.amount_total(),
        "currency": c.currency,
        "customer": c.customer,
        "customer_details": {
            "address": address(&c.address),
            "address_source": c.address_source,
            "ip_address": null,
            "tax_ids": c.tax_ids.iter().map(|(kind, value)| json!({ "type": kind, "value": value })).collect::<Vec<_>>(),
            "taxability_override": "none",
        },
        "expires_at": c.expires_at,
        "livemode": false,
        "ship_from_details": null,
        "shipping_cost": c.shipping.as_ref().map(|s| json!({
            "amount": s.amount,
            "amount_tax": s.amount_tax,
            "tax_behavior": s.tax_behavior,
            "tax_code": s.tax_code,
        })),
        "tax_amount_exclusive": c.tax_amount_exclusive(),
        "tax_amount_inclusive": c.tax_amount_inclusive(),
        "tax_breakdown": breakdown,
        "tax_date": c.created,
    })
}
