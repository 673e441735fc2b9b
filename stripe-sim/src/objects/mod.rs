//! Renders stored objects as Stripe JSON (same keys as Stripe's fixtures for the pinned API
//! version) and resolves `expand[]`.

pub mod billing;
pub mod catalog;
pub mod checkout;

use serde_json::{Value, json};

use crate::http::{ApiError, list_object};
use crate::state::{API_VERSION, Customer, Endpoint, Event, State};

pub fn customer(c: &Customer) -> Value {
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

pub fn event(e: &Event) -> Value {
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

pub fn endpoint(e: &Endpoint) -> Value {
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
pub fn by_id(st: &State, id: &str) -> Option<Value> {
    let prefix = id.split_once('_').map_or(id, |(p, _)| p);
    match prefix {
        "prod" => st.product(id).map(catalog::product),
        "price" => st.price(id).map(catalog::price),
        "cus" => st.customer(id).map(customer),
        "sub" => st.subscription(id).map(|s| billing::subscription(st, s)),
        "in" => st.invoice(id).map(|i| billing::invoice(st, i)),
        "cs" => st.session(id).map(|s| checkout::session(st, s)),
        "evt" => st.event(id).map(event),
        _ => None,
    }
}

fn not_expandable(path: &str) -> ApiError {
    ApiError::invalid(
        "expand",
        format!("This property cannot be expanded ({path})."),
    )
}

fn expand_at(st: &State, v: &mut Value, segs: &[&str], path: &str) -> Result<(), ApiError> {
    let Some((seg, rest)) = segs.split_first() else {
        return Ok(());
    };
    if let Value::Array(items) = v {
        for item in items {
            expand_at(st, item, segs, path)?;
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
        let items = st
            .session(&id)
            .map(|s| checkout::line_items(st, s))
            .unwrap_or_default();
        let mut list = list_object(
            items,
            false,
            &format!("/v1/checkout/sessions/{id}/line_items"),
        );
        expand_at(st, &mut list, rest, path)?;
        obj.insert("line_items".to_owned(), list);
        return Ok(());
    }
    let Some(field) = obj.get_mut(*seg) else {
        return Err(not_expandable(path));
    };
    if let Value::String(id) = field {
        *field = by_id(st, id).ok_or_else(|| not_expandable(path))?;
    }
    if field.is_null() {
        return Ok(());
    }
    expand_at(st, field, rest, path)
}

/// Applies `expand[]` paths such as `customer`, `line_items`, `data.product` in place.
pub fn expand(st: &State, v: &mut Value, paths: &[String]) -> Result<(), ApiError> {
    for path in paths {
        if path.split('.').count() > 4 {
            return Err(ApiError::invalid(
                "expand",
                format!("You cannot expand more than 4 levels of a property ({path})."),
            ));
        }
        let segs: Vec<&str> = path.split('.').collect();
        expand_at(st, v, &segs, path)?;
    }
    Ok(())
}
