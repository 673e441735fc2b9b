//! A session's discount: one coupon, given at creation (`discounts`) or reached through a code the
//! buyer types on the page (`allow_promotion_codes`). It comes off the goods' subtotal, never off
//! shipping; coupons and codes count a redemption when the session completes (`checkout`).

use crate::error::ApiError;
use crate::model::AppliedDiscount;
use crate::store::Store;

/// The coupon (and code) `discount` names, checked against `subtotal`; its amount.
pub(crate) fn amount_of(
    store: &Store,
    discount: &AppliedDiscount,
    subtotal: i64,
    currency: &str,
    param: &str,
) -> Result<i64, ApiError> {
    if let Some(promo) = &discount.promotion_code {
        let code = store
            .promotion_code(promo)
            .ok_or_else(|| ApiError::missing_resource("promotion_code", promo, param))?;
        if let Some(refusal) = code.refusal(store.now, subtotal, currency) {
            return Err(ApiError::invalid(param, refusal.to_owned()));
        }
    }
    let coupon = store
        .coupon(&discount.coupon)
        .ok_or_else(|| ApiError::missing_resource("coupon", &discount.coupon, param))?;
    if !coupon.valid(store.now) {
        return Err(ApiError::invalid(
            param,
            "This coupon is no longer valid.".to_owned(),
        ));
    }
    if coupon.amount_off.is_some() && coupon.currency.as_deref() != Some(currency) {
        return Err(ApiError::invalid(
            param,
            format!("This coupon is for another currency than {currency}."),
        ));
    }
    Ok(coupon.discount_on(subtotal, currency))
}

/// The code typed on the hosted page (any case), applied to the open session.
pub(crate) fn apply_code(store: &mut Store, id: &str, typed: &str) -> Result<(), ApiError> {
    super::checkout::open_session(store, id)?;
    let session = store
        .session(id)
        .ok_or_else(|| ApiError::missing_resource("checkout.session", id, "session"))?;
    if session.allow_promotion_codes != Some(true) {
        return Err(ApiError::state(
            "This Checkout Session does not accept promotion codes.".to_owned(),
        ));
    }
    let invalid = || ApiError::invalid("promotion_code", "This code is invalid.".to_owned());
    let code = store
        .promotion_codes
        .iter()
        .filter(|p| p.code.eq_ignore_ascii_case(typed.trim()))
        .max_by_key(|p| p.active)
        .ok_or_else(invalid)?;
    let discount = AppliedDiscount {
        coupon: code.coupon.clone(),
        promotion_code: Some(code.id.clone()),
    };
    let amount = amount_of(
        store,
        &discount,
        session.amount_subtotal,
        &session.currency,
        "promotion_code",
    )?;
    if let Some(s) = store.session_mut(id) {
        s.amount_discount = amount;
        s.discount = Some(discount);
    }
    super::totals::recompute(store, id);
    Ok(())
}
