//! JSON for coupons and promotion codes.

use serde_json::{Value, json};

use crate::model::{Coupon, PromotionCode};

/// `percent_off` as Stripe shows it: a JSON number with up to two decimals.
fn percent(bp: i64) -> Value {
    if bp % 100 == 0 {
        json!(bp / 100)
    } else {
        // Two decimals at most; the float only carries the number to the JSON text.
        json!(bp as f64 / 100.0)
    }
}

pub(crate) fn coupon(c: &Coupon, now: i64) -> Value {
    json!({
        "id": c.id,
        "object": "coupon",
        "amount_off": c.amount_off,
        "created": c.created,
        "currency": c.currency,
        "duration": c.duration,
        "duration_in_months": c.duration_in_months,
        "livemode": false,
        "max_redemptions": c.max_redemptions,
        "metadata": c.metadata,
        "name": c.name,
        "percent_off": c.percent_off_bp.map(percent),
        "redeem_by": c.redeem_by,
        "times_redeemed": c.times_redeemed,
        "valid": c.valid(now),
    })
}

pub(crate) fn deleted_coupon(id: &str) -> Value {
    json!({ "id": id, "object": "coupon", "deleted": true })
}

pub(crate) fn promotion_code(p: &PromotionCode) -> Value {
    json!({
        "id": p.id,
        "object": "promotion_code",
        "active": p.active,
        "code": p.code,
        "created": p.created,
        "customer": p.customer,
        "customer_account": null,
        "expires_at": p.expires_at,
        "livemode": false,
        "max_redemptions": p.max_redemptions,
        "metadata": p.metadata,
        "promotion": { "coupon": p.coupon, "type": "coupon" },
        "restrictions": {
            "first_time_transaction": p.first_time_transaction,
            "minimum_amount": p.minimum_amount,
            "minimum_amount_currency": p.minimum_amount_currency,
        },
        "times_redeemed": p.times_redeemed,
    })
}
