//! JSON for shipping rates and shipping details.

use serde_json::{Value, json};

use crate::model::{Address, EstimateBound, ShippingDetails, ShippingRate};

fn bound(b: &Option<EstimateBound>) -> Value {
    b.as_ref()
        .map_or(Value::Null, |b| json!({ "unit": b.unit, "value": b.value }))
}

pub(crate) fn rate(r: &ShippingRate) -> Value {
    let estimate = (r.minimum.is_some() || r.maximum.is_some())
        .then(|| json!({ "maximum": bound(&r.maximum), "minimum": bound(&r.minimum) }));
    json!({
        "id": r.id,
        "object": "shipping_rate",
        "active": r.active,
        "created": r.created,
        "delivery_estimate": estimate,
        "display_name": r.display_name,
        "fixed_amount": { "amount": r.amount, "currency": r.currency },
        "livemode": false,
        "metadata": r.metadata,
        "tax_behavior": r.tax_behavior,
        "tax_code": r.tax_code,
        "type": "fixed_amount",
    })
}

pub(crate) fn address(a: &Address) -> Value {
    json!({
        "city": a.city,
        "country": a.country,
        "line1": a.line1,
        "line2": a.line2,
        "postal_code": a.postal_code,
        "state": a.state,
    })
}

/// A session's `collected_information.shipping_details`.
pub(crate) fn details(d: &ShippingDetails) -> Value {
    json!({ "address": address(&d.address), "name": d.name })
}

/// A PaymentIntent's or Charge's `shipping`.
pub(crate) fn intent_shipping(d: &ShippingDetails) -> Value {
    json!({
        "address": address(&d.address),
        "carrier": null,
        "name": d.name,
        "phone": null,
        "tracking_number": null,
    })
}
