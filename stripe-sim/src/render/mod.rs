//! Renders stored objects as Stripe JSON (same keys as Stripe's fixtures for the pinned API
//! version), resolves `expand[]`, and computes `previous_attributes` for `*.updated` events.

pub(crate) mod account;
pub(crate) mod billing;
pub(crate) mod catalog;
pub(crate) mod checkout;
pub(crate) mod discounts;
pub(crate) mod payment_methods;
pub(crate) mod payments;
pub(crate) mod shipping;
pub(crate) mod tax;

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::model::{API_VERSION, Customer, Endpoint, Event};
use crate::store::Store;

pub(crate) fn customer(c: &Customer) -> Value {
    json!({
        "id": c.id,
        "object": "customer",
        "address": null,
        "balance": 0,
        "created": c.created,
        "currency": c.currency,
        "default_source": null,
        "delinquent": c.delinquent,
        "description": c.description,
        "discount": null,
        "email": c.email,
        "invoice_prefix": c.invoice_prefix,
        "invoice_settings": {
            "custom_fields": null,
            "default_payment_method": c.default_payment_method,
            "footer": null,
            "rendering_options": null,
        },
        "livemode": false,
        "metadata": c.metadata,
        "name": c.name,
        "next_invoice_sequence": c.next_invoice_sequence,
        "phone": c.phone,
        "preferred_locales": [],
        "shipping": null,
        "tax_exempt": "none",
        "test_clock": null,
    })
}

/// What Stripe answers for a deleted customer (the delete call, retrieving it, expanding it).
pub(crate) fn deleted_customer(id: &str) -> Value {
    json!({ "id": id, "object": "customer", "deleted": true })
}

/// A Stripe list object around `data`.
pub(crate) fn list_object(data: Vec<Value>, has_more: bool, url: &str) -> Value {
    json!({ "object": "list", "data": data, "has_more": has_more, "url": url })
}

/// Top-level keys whose values changed, with their old values (`previous_attributes`).
pub(crate) fn diff(before: &Value, after: &Value) -> Option<Value> {
    let (Some(b), Some(a)) = (before.as_object(), after.as_object()) else {
        return None;
    };
    let changed: serde_json::Map<String, Value> = b
        .iter()
        .filter(|(k, v)| a.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!changed.is_empty()).then_some(Value::Object(changed))
}

pub(crate) fn event(e: &Event) -> Value {
    let mut data = json!({ "object": e.object });
    if let Some(prev) = &e.previous {
        data["previous_attributes"] = prev.clone();
    }
    json!({
        "id": e.id,
        "object": "event",
        "api_version": API_VERSION,
        "created": e.created,
        "data": data,
        "livemode": false,
        "pending_webhooks": e.pending_webhooks,
        "request": { "id": null, "idempotency_key": null },
        "type": e.kind,
    })
}

pub(crate) fn endpoint(e: &Endpoint) -> Value {
    json!({
        "id": e.id,
        "object": "webhook_endpoint",
        "api_version": API_VERSION,
        "application": null,
        "created": e.created,
        "description": e.description,
        "enabled_events": e.enabled_events,
        "livemode": false,
        "metadata": e.metadata,
        "status": if e.enabled { "enabled" } else { "disabled" },
        "url": e.url,
    })
}

/// Renders any stored object by its id prefix (for expansion).
pub(crate) fn by_id(store: &Store, id: &str) -> Option<Value> {
    let prefix = id.split_once('_').map_or(id, |(p, _)| p);
    match prefix {
        "prod" => store.product(id).map(catalog::product),
        "price" => store.price(id).map(catalog::price),
        "cus" => store
            .customer(id)
            .map(customer)
            .or_else(|| store.customer_deleted(id).then(|| deleted_customer(id))),
        "sub" => store
            .subscription(id)
            .map(|s| billing::subscription(store, s)),
        "in" => store.invoice(id).map(|i| billing::invoice(store, i)),
        "cs" => store.session(id).map(|s| checkout::session(store, s)),
        "pi" => store.payment_intent(id).map(payments::payment_intent),
        "pm" => store
            .payment_method(id)
            .map(payment_methods::payment_method),
        "ch" => store.charge(id).map(|c| payments::charge(store, c)),
        "re" => store.refund(id).map(|r| payments::refund(store, r)),
        "evt" => store.event(id).map(event),
        "shr" => store.shipping_rate(id).map(shipping::rate),
        "promo" => store.promotion_code(id).map(discounts::promotion_code),
        _ => None,
    }
}

fn not_expandable(path: &str) -> ApiError {
    ApiError::invalid(
        "expand",
        format!("This property cannot be expanded ({path})."),
    )
}

fn expand_at(store: &Store, v: &mut Value, segs: &[&str], path: &str) -> Result<(), ApiError> {
    let Some((seg, rest)) = segs.split_first() else {
        return Ok(());
    };
    if let Value::Array(items) = v {
        for item in items {
            expand_at(store, item, segs, path)?;
        }
        return Ok(());
    }
    let Some(obj) = v.as_object_mut() else {
        return Err(not_expandable(path));
    };
    // Checkout's `line_items` is not a field until expanded.
    if *seg == "line_items" && obj.get("object") == Some(&json!("checkout.session")) {
        let id = obj
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let items = store
            .session(&id)
            .map(|s| checkout::line_items(store, s))
            .unwrap_or_default();
        let mut list = list_object(
            items,
            false,
            &format!("/v1/checkout/sessions/{id}/line_items"),
        );
        expand_at(store, &mut list, rest, path)?;
        obj.insert("line_items".to_owned(), list);
        return Ok(());
    }
    let Some(field) = obj.get_mut(*seg) else {
        return Err(not_expandable(path));
    };
    if let Value::String(id) = field {
        // Coupon ids are the account's own choice (no prefix): a `coupon` field names one.
        let coupon = || {
            (*seg == "coupon")
                .then(|| store.coupon(id).map(|c| discounts::coupon(c, store.now)))
                .flatten()
        };
        *field = by_id(store, id)
            .or_else(coupon)
            .ok_or_else(|| not_expandable(path))?;
    }
    if field.is_null() {
        return Ok(());
    }
    expand_at(store, field, rest, path)
}

/// Applies `expand[]` paths such as `customer`, `line_items`, `data.product` in place.
pub(crate) fn expand(store: &Store, v: &mut Value, paths: &[String]) -> Result<(), ApiError> {
    for path in paths {
        if path.split('.').count() > 4 {
            return Err(ApiError::invalid(
                "expand",
                format!("You cannot expand more than 4 levels of a property ({path})."),
            ));
        }
        let segs: Vec<&str> = path.split('.').collect();
        expand_at(store, v, &segs, path)?;
    }
    Ok(())
}
