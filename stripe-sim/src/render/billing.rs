//! JSON for subscriptions (with items) and invoices (with lines), for API version
//! 2026-09-30: billing periods live on subscription items, invoices link to their
//! subscription through `parent.subscription_details`.

use serde_json::{Value, json};

use super::{account, catalog};
use crate::model::{Invoice, InvoiceLine, InvoiceStatus, SubItem, Subscription};
use crate::store::Store;

fn sub_item(store: &Store, s: &Subscription, it: &SubItem) -> Value {
    let price = store.price(&it.price);
    json!({
        "id": it.id,
        "object": "subscription_item",
        "billing_thresholds": null,
        "created": it.created,
        "current_period_end": s.current_period_end,
        "current_period_start": s.current_period_start,
        "discounts": [],
        "metadata": it.metadata,
        "plan": price.map(catalog::plan),
        "price": price.map(catalog::price),
        "quantity": it.quantity,
        "subscription": s.id,
        "tax_rates": [],
    })
}

/// Long by nature: one JSON literal with every field of Stripe's object, in Stripe's order.
pub(crate) fn subscription(store: &Store, s: &Subscription) -> Value {
    let items: Vec<Value> = s.items.iter().map(|it| sub_item(store, s, it)).collect();
    json!({
        "id": s.id,
        "object": "subscription",
        "application": null,
        "application_fee_percent": null,
        "automatic_tax": { "enabled": false, "liability": null, "disabled_reason": null },
        "billing_cycle_anchor": s.billing_cycle_anchor,
        "billing_cycle_anchor_config": null,
        "billing_mode": { "type": "classic", "flexible": null },
        "billing_schedules": [],
        "billing_thresholds": null,
        "cancel_at": s.cancel_at,
        "cancel_at_period_end": s.cancel_at_period_end,
        "canceled_at": s.canceled_at,
        "cancellation_details": {
            "comment": null,
            "feedback": null,
            "reason": s.cancellation_reason,
        },
        "collection_method": "charge_automatically",
        "created": s.created,
        "currency": s.currency,
        "customer": s.customer,
        "customer_account": null,
        "days_until_due": null,
        "default_payment_method": s.default_payment_method,
        "default_source": null,
        "default_tax_rates": [],
        "description": s.description,
        "discounts": [],
        "ended_at": s.ended_at,
        "invoice_settings": {
            "account_tax_ids": null,
            "custom_fields": null,
            "description": null,
            "footer": null,
            "issuer": { "type": "self" },
        },
        "items": {
            "object": "list",
            "data": items,
            "has_more": false,
            "url": format!("/v1/subscription_items?subscription={}", s.id),
        },
        "latest_invoice": s.latest_invoice,
        "livemode": false,
        "managed_payments": null,
        "metadata": s.metadata,
        "next_pending_invoice_item_invoice": null,
        "on_behalf_of": null,
        "pause_collection": null,
        "payment_settings": {
            "payment_method_options": null,
            "payment_method_types": null,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": null,
        "pending_setup_intent": null,
        "pending_update": null,
        "schedule": null,
        "start_date": s.start_date,
        "status": s.status.as_str(),
        "test_clock": null,
        "transfer_data": null,
        "trial_end": s.trial_end,
        "trial_settings": { "end_behavior": { "missing_payment_method": "create_invoice" } },
        "trial_start": s.trial_start,
    })
}

fn line(store: &Store, inv: &Invoice, l: &InvoiceLine) -> Value {
    let product = l
        .price
        .as_deref()
        .and_then(|p| store.price(p))
        .map(|p| p.product.clone());
    let parent = match (&inv.subscription, &l.subscription_item) {
        (Some(sub), Some(si)) if l.invoice_item.is_none() => json!({
            "type": "subscription_item_details",
            "invoice_item_details": null,
            "subscription_item_details": {
                "invoice_item": null,
                "proration": l.proration,
                "proration_details": { "credited_items": null },
                "subscription": sub,
                "subscription_item": si,
            },
        }),
        _ => json!({
            "type": "invoice_item_details",
            "invoice_item_details": {
                "invoice_item": l.invoice_item,
                "proration": l.proration,
                "proration_details": { "credited_items": null },
                "subscription": inv.subscription,
            },
            "subscription_item_details": null,
        }),
    };
    json!({
        "id": l.id,
        "object": "line_item",
        "amount": l.amount,
        "currency": inv.currency,
        "description": l.description,
        "discount_amounts": [],
        "discountable": true,
        "discounts": [],
        "invoice": inv.id,
        "livemode": false,
        "metadata": {},
        "parent": parent,
        "period": { "end": l.period_end, "start": l.period_start },
        "pretax_credit_amounts": [],
        "pricing": {
            "type": "price_details",
            "price_details": { "price": l.price, "product": product },
            "unit_amount_decimal": l.price.as_deref().and_then(|p| store.price(p)).map(|p| p.unit_amount.to_string()),
        },
        "quantity": l.quantity,
        "quantity_decimal": l.quantity.to_string(),
        "subscription": inv.subscription,
        "subtotal": l.amount,
        "taxes": [],
    })
}

pub(crate) fn invoice_lines(store: &Store, inv: &Invoice) -> Vec<Value> {
    inv.lines.iter().map(|l| line(store, inv, l)).collect()
}

/// Long by nature: one JSON literal with every field of Stripe's object, in Stripe's order.
pub(crate) fn invoice(store: &Store, inv: &Invoice) -> Value {
    let total = inv.total();
    let remaining = if inv.status == InvoiceStatus::Paid {
        0
    } else {
        total - inv.amount_paid
    };
    let parent = inv.subscription.as_ref().map(|sub| {
        let metadata = store
            .subscription(sub)
            .map(|s| s.metadata.clone())
            .unwrap_or_default();
        json!({
            "type": "subscription_details",
            "quote_details": null,
            "subscription_details": { "metadata": metadata, "subscription": sub },
        })
    });
    let hosted = (inv.status != InvoiceStatus::Draft)
        .then(|| format!("{}/invoice/{}", store.base_url, inv.id));
    json!({
        "id": inv.id,
        "object": "invoice",
        "account_country": account::COUNTRY,
        "account_name": account::DISPLAY_NAME,
        "account_tax_ids": null,
        "amount_due": total,
        "amount_overpaid": 0,
        "amount_paid": inv.amount_paid,
        "amount_remaining": remaining,
        "amount_shipping": 0,
        "application": null,
        "attempt_count": inv.attempt_count,
        "attempted": inv.attempted,
        "auto_advance": inv.status == InvoiceStatus::Open,
        "automatic_tax": {
            "enabled": false,
            "liability": null,
            "status": null,
            "disabled_reason": null,
            "provider": null,
        },
        "automatically_finalizes_at": null,
        "billing_reason": inv.billing_reason,
        "collection_method": "charge_automatically",
        "created": inv.created,
        "currency": inv.currency,
        "custom_fields": null,
        "customer": inv.customer,
        "customer_account": null,
        "customer_address": null,
        "customer_email": inv.customer_email,
        "customer_name": inv.customer_name,
        "customer_phone": null,
        "customer_shipping": null,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": null,
        "default_source": null,
        "default_tax_rates": [],
        "description": null,
        "discounts": [],
        "due_date": null,
        "effective_at": inv.finalized_at,
        "ending_balance": if inv.finalized_at.is_some() { Some(0) } else { None },
        "footer": null,
        "from_invoice": null,
        "hosted_invoice_url": hosted,
        "invoice_pdf": null,
        "issuer": { "type": "self" },
        "last_finalization_error": null,
        "latest_revision": null,
        "lines": {
            "object": "list",
            "data": invoice_lines(store, inv),
            "has_more": false,
            "url": format!("/v1/invoices/{}/lines", inv.id),
        },
        "livemode": false,
        "metadata": {},
        "next_payment_attempt": inv.next_payment_attempt,
        "number": inv.number,
        "on_behalf_of": null,
        "parent": parent,
        "payment_settings": {
            "default_mandate": null,
            "payment_method_options": null,
            "payment_method_types": null,
        },
        "period_end": inv.period_end,
        "period_start": inv.period_start,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": null,
        "rendering": null,
        "shipping_cost": null,
        "shipping_details": null,
        "starting_balance": 0,
        "statement_descriptor": null,
        "status": inv.status.as_str(),
        "status_transitions": {
            "finalized_at": inv.finalized_at,
            "marked_uncollectible_at": null,
            "paid_at": inv.paid_at,
            "voided_at": inv.voided_at,
        },
        "subscription": inv.subscription,
        "subtotal": total,
        "subtotal_excluding_tax": total,
        "test_clock": null,
        "total": total,
        "total_discount_amounts": [],
        "total_excluding_tax": total,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": inv.finalized_at,
    })
}
