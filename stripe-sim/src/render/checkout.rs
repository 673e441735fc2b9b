//! JSON for Checkout Sessions, their line items and Billing Portal sessions.

use serde_json::{Value, json};

use super::{catalog, shipping};
use crate::model::{CheckoutSession, PortalSession, SessionStatus};
use crate::store::Store;

/// Long by nature: one JSON literal with every field of Stripe's object, in Stripe's order.
pub(crate) fn session(store: &Store, s: &CheckoutSession) -> Value {
    let url =
        (s.status == SessionStatus::Open).then(|| format!("{}/checkout/{}", store.base_url, s.id));
    let customer_details = (s.status == SessionStatus::Complete).then(|| {
        let email = store.checkout_email(s);
        json!({
            "address": null,
            "business_name": null,
            "email": email,
            "individual_name": null,
            "name": null,
            "phone": null,
            "tax_exempt": "none",
            "tax_ids": [],
        })
    });
    let invoice_creation = (s.mode == "payment").then(|| {
        json!({
            "enabled": false,
            "invoice_data": {
                "account_tax_ids": null,
                "custom_fields": null,
                "description": null,
                "footer": null,
                "issuer": null,
                "metadata": {},
                "rendering_options": null,
            },
        })
    });
    json!({
        "id": s.id,
        "object": "checkout.session",
        "adaptive_pricing": { "enabled": false },
        "after_expiration": null,
        "allow_promotion_codes": s.allow_promotion_codes,
        "amount_subtotal": s.amount_subtotal,
        "amount_total": s.amount_total,
        "automatic_tax": if s.automatic_tax {
            json!({
                "enabled": true,
                "liability": { "type": "self" },
                "provider": "stripe",
                "status": if s.tax_located { "complete" } else { "requires_location_inputs" },
            })
        } else {
            json!({ "enabled": false, "liability": null, "provider": null, "status": null })
        },
        "billing_address_collection": null,
        "cancel_url": s.cancel_url,
        "client_reference_id": s.client_reference_id,
        "client_secret": null,
        "collected_information": s.shipping_details.as_ref().map(|d| json!({
            "business_name": null,
            "individual_name": null,
            "shipping_details": shipping::details(d),
        })),
        "consent": null,
        "consent_collection": null,
        "created": s.created,
        "currency": s.currency,
        "currency_conversion": null,
        "custom_fields": [],
        "custom_text": {
            "after_submit": null,
            "shipping_address": null,
            "submit": null,
            "terms_of_service_acceptance": null,
        },
        "customer": s.customer,
        "customer_account": null,
        "customer_creation": s.customer_creation,
        "customer_details": customer_details,
        "customer_email": s.customer_email,
        "discounts": s
            .discount
            .iter()
            .map(|d| json!({ "coupon": d.coupon, "promotion_code": d.promotion_code }))
            .collect::<Vec<_>>(),
        "expires_at": s.expires_at,
        "integration_identifier": null,
        "invoice": s.invoice,
        "invoice_creation": invoice_creation,
        "livemode": false,
        "locale": s.locale,
        "managed_payments": null,
        "metadata": s.metadata,
        "mode": s.mode,
        "origin_context": null,
        "payment_intent": s.payment_intent,
        "payment_link": null,
        "payment_method_collection": if s.mode == "subscription" { Some("always") } else { None },
        "payment_method_configuration_details": null,
        "payment_method_options": null,
        "payment_method_types": if s.payment_method_types.is_empty() {
            vec!["card".to_owned()]
        } else {
            s.payment_method_types.clone()
        },
        "payment_status": s.payment_status,
        "permissions": null,
        "phone_number_collection": { "enabled": false },
        "recovered_from": null,
        "saved_payment_method_options": null,
        "setup_intent": null,
        "shipping_address_collection": s
            .shipping_countries
            .as_ref()
            .map(|c| json!({ "allowed_countries": c })),
        "shipping_cost": s.shipping_rate.as_ref().map(|(rate, amount)| json!({
            "amount_subtotal": amount,
            "amount_tax": s.shipping_tax,
            "amount_total": amount + s.shipping_tax,
            "shipping_rate": rate,
        })),
        "shipping_options": s
            .shipping_options
            .iter()
            .map(|(rate, amount)| json!({ "shipping_amount": amount, "shipping_rate": rate }))
            .collect::<Vec<_>>(),
        "status": s.status.as_str(),
        "submit_type": null,
        "subscription": s.subscription,
        "success_url": s.success_url,
        "total_details": {
            "amount_discount": s.amount_discount,
            "amount_shipping": s.amount_shipping(),
            "amount_tax": s.amount_tax,
        },
        "ui_mode": "hosted_page",
        "url": url,
        "wallet_options": null,
    })
}

/// `GET /v1/checkout/sessions/{id}/line_items` entries (object `item`).
pub(crate) fn line_items(store: &Store, s: &CheckoutSession) -> Vec<Value> {
    let amounts: Vec<i64> = s
        .lines
        .iter()
        .map(|l| {
            store
                .price(&l.price)
                .map_or(0, |p| p.unit_amount * l.quantity)
        })
        .collect();
    let discounts = line_shares(s.amount_discount, &amounts);
    s.lines
        .iter()
        .zip(amounts.iter().zip(discounts))
        .enumerate()
        .map(|(n, (l, (&amount, discount)))| {
            let tax = s.line_taxes.get(n).copied().unwrap_or(0);
            let inclusive = price_inclusive(store, &l.price);
            let price = store.price(&l.price);
            let description = price
                .and_then(|p| store.product(&p.product))
                .map(|p| p.name.clone())
                .unwrap_or_default();
            json!({
                "id": l.id,
                "object": "item",
                "adjustable_quantity": null,
                "amount_discount": discount,
                "amount_subtotal": amount,
                "amount_tax": tax,
                "amount_total": amount - discount + if inclusive { 0 } else { tax },
                "currency": s.currency,
                "description": description,
                "metadata": {},
                "price": price.map(catalog::price),
                "quantity": l.quantity,
            })
        })
        .collect()
}

fn price_inclusive(store: &Store, price: &str) -> bool {
    store
        .price(price)
        .is_some_and(|p| p.tax_behavior == "inclusive")
}

/// A session-wide discount spread over its lines in proportion to their amounts, in whole minor
/// units; what rounding leaves goes to the last line, so the shares add up to the discount.
pub(crate) fn line_shares(discount: i64, amounts: &[i64]) -> Vec<i64> {
    let total: i64 = amounts.iter().sum();
    if total == 0 {
        return vec![0; amounts.len()];
    }
    let mut shares: Vec<i64> = amounts.iter().map(|a| discount * a / total).collect();
    if let Some(last) = shares.last_mut() {
        *last += discount - amounts.iter().map(|a| discount * a / total).sum::<i64>();
    }
    shares
}

pub(crate) fn portal_session(store: &Store, p: &PortalSession) -> Value {
    json!({
        "id": p.id,
        "object": "billing_portal.session",
        "configuration": "bpc_sim_default",
        "created": p.created,
        "customer": p.customer,
        "customer_account": null,
        "flow": null,
        "livemode": false,
        "locale": p.locale,
        "on_behalf_of": null,
        "return_url": p.return_url,
        "url": format!("{}/portal/{}", store.base_url, p.id),
    })
}
