//! JSON for card PaymentMethods (keys as in Stripe's `payment_method` example). The card
//! number itself is never stored: only its last four digits and brand are shown.

use serde_json::{Value, json};

use crate::model::PaymentMethod;

pub(crate) fn payment_method(pm: &PaymentMethod) -> Value {
    json!({
        "id": pm.id,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": {
                "city": null,
                "country": null,
                "line1": null,
                "line2": null,
                "postal_code": null,
                "state": null,
            },
            "email": null,
            "name": null,
            "phone": null,
            "tax_id": null,
        },
        "card": {
            "brand": pm.brand,
            "checks": {
                "address_line1_check": null,
                "address_postal_code_check": null,
                "cvc_check": "unchecked",
            },
            "country": "US",
            "display_brand": pm.brand,
            "exp_month": pm.exp_month,
            "exp_year": pm.exp_year,
            "fingerprint": format!("sim{}{}", pm.brand, pm.last4),
            "funding": "credit",
            "generated_from": null,
            "last4": pm.last4,
            "networks": { "available": [pm.brand], "preferred": null },
            "regulated_status": "unregulated",
            "three_d_secure_usage": { "supported": true },
            "wallet": null,
        },
        "created": pm.created,
        "customer": pm.customer,
        "customer_account": null,
        "livemode": false,
        "metadata": {},
        "type": "card",
    })
}
