//! Coupons (`/v1/coupons`) and promotion codes (`/v1/promotion_codes`), which payment-mode
//! Checkout applies (`discounts`, or a code typed on the page under `allow_promotion_codes`).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;

use super::{body_params, delete_params, list_page, list_query, merge_metadata, one, retrieve_one};
use crate::error::ApiError;
use crate::form::Params;
use crate::http::ApiResult;
use crate::model::{Coupon, PromotionCode};
use crate::render::discounts as render;
use crate::shared::Shared;
use crate::store::Store;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/coupons", get(list_coupons).post(create_coupon))
        .route(
            "/coupons/{id}",
            get(get_coupon).post(update_coupon).delete(delete_coupon),
        )
        .route("/promotion_codes", get(list_codes).post(create_code))
        .route("/promotion_codes/{id}", get(get_code).post(update_code))
}

/// `percent_off` ("25.5") in hundredths of a percent, without going through a float.
fn percent_bp(raw: &str) -> Result<i64, ApiError> {
    let invalid = || {
        ApiError::invalid(
            "percent_off",
            "percent_off must be a number above 0 and at most 100, with at most two decimals."
                .to_owned(),
        )
    };
    let (whole, fraction) = raw.trim().split_once('.').unwrap_or((raw.trim(), ""));
    if fraction.len() > 2 || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    let whole: i64 = whole.parse().map_err(|_| invalid())?;
    let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| invalid())?;
    let bp = whole * 100 + fraction;
    if !(1..=10_000).contains(&bp) {
        return Err(invalid());
    }
    Ok(bp)
}

fn coupon_from(store: &mut Store, params: &Params) -> Result<String, ApiError> {
    let percent_off_bp = params.str("percent_off").map(percent_bp).transpose()?;
    let amount_off = params.i64("amount_off")?;
    let currency = params.str("currency").map(str::to_lowercase);
    match (percent_off_bp, amount_off) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(ApiError::invalid(
                "percent_off",
                "Pass exactly one of percent_off or amount_off.".to_owned(),
            ));
        }
        (None, Some(amount)) if amount < 1 => {
            return Err(ApiError::invalid(
                "amount_off",
                "This value must be greater than or equal to 1.".to_owned(),
            ));
        }
        (None, Some(_)) if currency.is_none() => return Err(ApiError::missing("currency")),
        _ => {}
    }
    let duration = params.str("duration").unwrap_or("once").to_owned();
    if !matches!(duration.as_str(), "once" | "repeating" | "forever") {
        return Err(ApiError::invalid(
            "duration",
            "Invalid duration: must be one of once, repeating, or forever".to_owned(),
        ));
    }
    let months = params.i64("duration_in_months")?;
    if duration == "repeating" && months.is_none() {
        return Err(ApiError::missing("duration_in_months"));
    }
    let id = match params.str("id") {
        Some(id) if store.coupon(id).is_some() => {
            return Err(ApiError::invalid("id", "Coupon already exists.".to_owned()));
        }
        Some(id) => id.to_owned(),
        None => store
            .id("")
            .trim_start_matches('_')
            .chars()
            .take(8)
            .collect(),
    };
    store.coupons.push(Coupon {
        id: id.clone(),
        name: params.str("name").map(str::to_owned),
        percent_off_bp,
        amount_off: amount_off.filter(|_| percent_off_bp.is_none()),
        currency: if percent_off_bp.is_some() {
            None
        } else {
            currency
        },
        duration,
        duration_in_months: months,
        max_redemptions: params.i64("max_redemptions")?,
        redeem_by: params.i64("redeem_by")?,
        times_redeemed: 0,
        metadata: params.metadata("metadata")?.unwrap_or_default(),
        created: store.now,
    });
    Ok(id)
}

async fn create_coupon(State(sim): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&[
        "id",
        "name",
        "percent_off",
        "amount_off",
        "currency",
        "duration",
        "duration_in_months",
        "max_redemptions",
        "redeem_by",
        "metadata",
        "expand",
    ])?;
    sim.with(|store| {
        let id = coupon_from(store, &params)?;
        let now = store.now;
        let object = store
            .coupon(&id)
            .map(|c| render::coupon(c, now))
            .unwrap_or_default();
        store.emit("coupon.created", object.clone(), None);
        one(store, &params, object)
    })
}

async fn get_coupon(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &query, "coupon", &id, "id", |store| {
        store.coupon(&id).map(|c| render::coupon(c, store.now))
    })
}

/// Only the name and metadata of a coupon change; its terms are fixed once made.
async fn update_coupon(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&["name", "metadata", "expand"])?;
    let metadata = params.metadata("metadata")?;
    sim.with(|store| {
        let Some(coupon) = store.coupons.iter_mut().find(|c| c.id == id) else {
            return Err(ApiError::missing_resource("coupon", &id, "id"));
        };
        if let Some(name) = params.str("name") {
            coupon.name = Some(name.to_owned()).filter(|n| !n.is_empty());
        }
        merge_metadata(&mut coupon.metadata, metadata);
        let now = store.now;
        let object = store
            .coupon(&id)
            .map(|c| render::coupon(c, now))
            .unwrap_or_default();
        one(store, &params, object)
    })
}

/// Deleting a coupon stops new redemptions (its promotion codes with it); what was bought stays.
async fn delete_coupon(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
    body: Bytes,
) -> ApiResult {
    delete_params(&query, &body)?.allow(&[])?;
    sim.with(|store| {
        let Some(at) = store.coupons.iter().position(|c| c.id == id) else {
            return Err(ApiError::missing_resource("coupon", &id, "id"));
        };
        let removed = store.coupons.remove(at);
        store.deleted_coupons.push(removed.id.clone());
        store.emit("coupon.deleted", render::coupon(&removed, store.now), None);
        Ok(axum::Json(render::deleted_coupon(&id)))
    })
}

async fn list_coupons(State(sim): State<Arc<Shared>>, query: RawQuery) -> ApiResult {
    let params = list_query(&query, &["created"])?;
    list_page(&sim, &params, "/v1/coupons", |store| {
        Ok(store
            .coupons
            .iter()
            .rev()
            .map(|c| render::coupon(c, store.now))
            .collect())
    })
}

fn code_from(store: &mut Store, params: &Params) -> Result<String, ApiError> {
    let promotion = params
        .child("promotion")?
        .ok_or_else(|| ApiError::missing("promotion"))?;
    promotion.allow(&["type", "coupon"])?;
    if promotion.str("type").is_some_and(|t| t != "coupon") {
        return Err(ApiError::invalid(
            &promotion.name("type"),
            "Invalid type: must be coupon".to_owned(),
        ));
    }
    let coupon = promotion.req_str("coupon")?.to_owned();
    if store.coupon(&coupon).is_none() {
        return Err(ApiError::missing_resource(
            "coupon",
            &coupon,
            &promotion.name("coupon"),
        ));
    }
    let (minimum_amount, minimum_amount_currency, first_time) =
        match params.child("restrictions")? {
            Some(r) => {
                r.allow(&[
                    "minimum_amount",
                    "minimum_amount_currency",
                    "first_time_transaction",
                ])?;
                let amount = r.i64("minimum_amount")?;
                let currency = r.str("minimum_amount_currency").map(str::to_lowercase);
                if amount.is_some() != currency.is_some() {
                    return Err(ApiError::missing(&r.name("minimum_amount_currency")));
                }
                (
                    amount,
                    currency,
                    r.bool("first_time_transaction")?.unwrap_or(false),
                )
            }
            None => (None, None, false),
        };
    let code = match params.str("code") {
        Some(code) => code.trim().to_owned(),
        None => store
            .id("")
            .trim_start_matches('_')
            .to_uppercase()
            .chars()
            .take(8)
            .collect(),
    };
    let taken = store
        .promotion_codes
        .iter()
        .any(|p| p.active && p.code.eq_ignore_ascii_case(&code));
    if code.is_empty() || taken {
        return Err(ApiError::invalid(
            "code",
            "An active promotion code with this code already exists.".to_owned(),
        ));
    }
    let id = store.id("promo");
    store.promotion_codes.push(PromotionCode {
        id: id.clone(),
        code,
        coupon,
        active: params.bool("active")?.unwrap_or(true),
        max_redemptions: params.i64("max_redemptions")?,
        times_redeemed: 0,
        expires_at: params.i64("expires_at")?,
        first_time_transaction: first_time,
        minimum_amount,
        minimum_amount_currency,
        customer: params.str("customer").map(str::to_owned),
        metadata: params.metadata("metadata")?.unwrap_or_default(),
        created: store.now,
    });
    Ok(id)
}

async fn create_code(State(sim): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&[
        "promotion",
        "code",
        "active",
        "customer",
        "expires_at",
        "max_redemptions",
        "restrictions",
        "metadata",
        "expand",
    ])?;
    sim.with(|store| {
        let id = code_from(store, &params)?;
        let object = store
            .promotion_code(&id)
            .map(render::promotion_code)
            .unwrap_or_default();
        store.emit("promotion_code.created", object.clone(), None);
        one(store, &params, object)
    })
}

async fn get_code(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &query, "promotion_code", &id, "id", |store| {
        store.promotion_code(&id).map(render::promotion_code)
    })
}

async fn update_code(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&["active", "metadata", "expand"])?;
    let active = params.bool("active")?;
    let metadata = params.metadata("metadata")?;
    sim.with(|store| {
        let Some(code) = store.promotion_codes.iter_mut().find(|p| p.id == id) else {
            return Err(ApiError::missing_resource("promotion_code", &id, "id"));
        };
        if let Some(a) = active {
            code.active = a;
        }
        merge_metadata(&mut code.metadata, metadata);
        let object = store
            .promotion_code(&id)
            .map(render::promotion_code)
            .unwrap_or_default();
        store.emit("promotion_code.updated", object.clone(), None);
        one(store, &params, object)
    })
}

/// Lists codes, filtered as Stripe filters them (`code` matches in any case).
async fn list_codes(State(sim): State<Arc<Shared>>, query: RawQuery) -> ApiResult {
    let params = list_query(&query, &["code", "active", "coupon", "customer", "created"])?;
    let active = params.bool("active")?;
    list_page(&sim, &params, "/v1/promotion_codes", |store| {
        Ok(store
            .promotion_codes
            .iter()
            .rev()
            .filter(|p| {
                params
                    .str("code")
                    .is_none_or(|c| p.code.eq_ignore_ascii_case(c))
            })
            .filter(|p| active.is_none_or(|a| p.active == a))
            .filter(|p| params.str("coupon").is_none_or(|c| p.coupon == c))
            .filter(|p| {
                params
                    .str("customer")
                    .is_none_or(|c| p.customer.as_deref() == Some(c))
            })
            .map(render::promotion_code)
            .collect())
    })
}
