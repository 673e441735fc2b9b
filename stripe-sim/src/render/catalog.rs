//! JSON for products, prices and the legacy `plan` view of a price.

use serde_json::{Value, json};

use crate::model::{Price, Product};

pub(crate) fn product(p: &Product) -> Value {
    let features: Vec<Value> = p
        .marketing_features
        .iter()
        .map(|n| json!({ "name": n }))
        .collect();
    json!({
        "id": p.id,
        "object": "product",
        "active": p.active,
        "created": p.created,
        "default_price": p.default_price,
        "description": p.description,
        "images": p.images,
        "livemode": false,
        "marketing_features": features,
        "metadata": p.metadata,
        "name": p.name,
        "package_dimensions": null,
        "shippable": null,
        "statement_descriptor": p.statement_descriptor,
        "tax_code": p.tax_code,
        "type": "service",
        "unit_label": p.unit_label,
        "updated": p.updated,
        "url": p.url,
    })
}

pub(crate) fn price(p: &Price) -> Value {
    let recurring = p.recurring.as_ref().map(|r| {
        json!({
            "interval": r.interval,
            "interval_count": r.interval_count,
            "meter": null,
            "usage_type": "licensed",
            "trial_period_days": null,
        })
    });
    json!({
        "id": p.id,
        "object": "price",
        "active": p.active,
        "billing_scheme": "per_unit",
        "created": p.created,
        "currency": p.currency,
        "custom_unit_amount": null,
        "livemode": false,
        "lookup_key": p.lookup_key,
        "metadata": p.metadata,
        "nickname": p.nickname,
        "product": p.product,
        "recurring": recurring,
        "tax_behavior": p.tax_behavior,
        "tiers_mode": null,
        "transform_quantity": null,
        "type": if p.recurring.is_some() { "recurring" } else { "one_time" },
        "unit_amount": p.unit_amount,
        "unit_amount_decimal": p.unit_amount.to_string(),
    })
}

/// Subscription items still carry the pre-Prices `plan` object.
pub(crate) fn plan(p: &Price) -> Value {
    let (interval, count) = p
        .recurring
        .as_ref()
        .map_or(("month", 1), |r| (r.interval.as_str(), r.interval_count));
    json!({
        "id": p.id,
        "object": "plan",
        "active": p.active,
        "amount": p.unit_amount,
        "amount_decimal": p.unit_amount.to_string(),
        "billing_scheme": "per_unit",
        "created": p.created,
        "currency": p.currency,
        "interval": interval,
        "interval_count": count,
        "livemode": false,
        "metadata": p.metadata,
        "meter": null,
        "nickname": p.nickname,
        "product": p.product,
        "tiers_mode": null,
        "transform_usage": null,
        "trial_period_days": null,
        "usage_type": "licensed",
    })
}
