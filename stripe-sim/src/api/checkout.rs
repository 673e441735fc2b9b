//! Checkout Sessions and Billing Portal sessions.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};

use super::{body, list_page, list_query, one, retrieve_one};
use crate::Shared;
use crate::billing::checkout::expire;
use crate::form::Params;
use crate::http::{ApiError, ApiResult};
use crate::objects::checkout as render;
use crate::state::{CheckoutSession, PortalSession, SessionLine, SessionStatus, State as SimState};

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/checkout/sessions", get(list).post(create))
        .route("/checkout/sessions/{id}", get(retrieve))
        .route("/checkout/sessions/{id}/line_items", get(line_items))
        .route("/checkout/sessions/{id}/expire", post(expire_session))
        .route("/billing_portal/sessions", post(create_portal))
}

/// Parameters accepted and honoured; `IGNORED` are accepted for compatibility but have no
/// effect in the sim (tax, address collection, …).
const ACCEPTED: [&str; 16] = [
    "mode",
    "line_items",
    "success_url",
    "cancel_url",
    "customer",
    "customer_email",
    "customer_creation",
    "client_reference_id",
    "metadata",
    "allow_promotion_codes",
    "subscription_data",
    "payment_method_types",
    "expires_at",
    "locale",
    "expand",
    "ui_mode",
];
const IGNORED: [&str; 8] = [
    "billing_address_collection",
    "customer_update",
    "payment_method_collection",
    "automatic_tax",
    "tax_id_collection",
    "phone_number_collection",
    "invoice_creation",
    "payment_intent_data",
];

fn build(st: &mut SimState, p: &Params) -> Result<String, ApiError> {
    let mode = p.req_str("mode")?;
    if !matches!(mode, "subscription" | "payment") {
        return Err(ApiError::invalid(
            "mode",
            format!("Invalid mode: {mode} (the sim supports subscription and payment)"),
        ));
    }
    if let Some(ui) = p
        .str("ui_mode")
        .filter(|u| !matches!(*u, "hosted" | "hosted_page"))
    {
        return Err(ApiError::invalid(
            "ui_mode",
            format!("ui_mode {ui} is not supported by the sim"),
        ));
    }
    let success_url = p.req_str("success_url")?.to_owned();
    if p.str("customer").is_some() && p.str("customer_email").is_some() {
        return Err(ApiError::invalid(
            "customer_email",
            "You may only specify one of these parameters: customer, customer_email.".to_owned(),
        ));
    }
    if let Some(c) = p.str("customer")
        && st.customer(c).is_none()
    {
        return Err(ApiError::missing_resource("customer", c, "customer"));
    }
    let items = p.list("line_items")?;
    if items.is_empty() {
        return Err(ApiError::missing("line_items"));
    }
    let mut lines = Vec::new();
    let mut currency: Option<String> = None;
    let mut total = 0i64;
    for it in &items {
        it.allow(&["price", "quantity", "adjustable_quantity", "metadata"])?;
        let price_id = it.req_str("price")?;
        let price = st
            .price(price_id)
            .ok_or_else(|| ApiError::missing_resource("price", price_id, &it.name("price")))?;
        if !price.active {
            return Err(ApiError::invalid(
                &it.name("price"),
                format!("The price specified ({price_id}) is inactive."),
            ));
        }
        match (mode, price.recurring.is_some()) {
            ("payment", true) => {
                return Err(ApiError::invalid(
                    &it.name("price"),
                    "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.".to_owned(),
                ));
            }
            ("subscription", false) => {
                return Err(ApiError::invalid(
                    &it.name("price"),
                    "You must provide at least one recurring price in `subscription` mode when using prices.".to_owned(),
                ));
            }
            _ => {}
        }
        if currency.as_ref().is_some_and(|c| *c != price.currency) {
            return Err(ApiError::invalid(
                &it.name("price"),
                "All prices must use the same currency.".to_owned(),
            ));
        }
        currency = Some(price.currency.clone());
        let quantity = it.i64("quantity")?.unwrap_or(1);
        if quantity < 1 {
            return Err(ApiError::invalid(
                &it.name("quantity"),
                "Quantity must be at least 1.".to_owned(),
            ));
        }
        total += price.unit_amount * quantity;
        lines.push((price_id.to_owned(), quantity));
    }
    let (trial, sub_meta, sub_desc) = match p.child("subscription_data")? {
        Some(sd) if mode == "subscription" => {
            sd.allow(&[
                "trial_period_days",
                "trial_end",
                "metadata",
                "description",
                "trial_settings",
            ])?;
            let days = sd.i64("trial_period_days")?;
            if days.is_some_and(|d| !(1..=730).contains(&d)) {
                return Err(ApiError::invalid(
                    "subscription_data[trial_period_days]",
                    "trial_period_days must be between 1 and 730.".to_owned(),
                ));
            }
            let end_days = match sd.i64("trial_end")? {
                Some(end) if end <= st.now + 2 * 86_400 => {
                    return Err(ApiError::invalid(
                        "subscription_data[trial_end]",
                        "trial_end must be at least 48 hours in the future.".to_owned(),
                    ));
                }
                Some(end) => Some((end - st.now).div_euclid(86_400)),
                None => None,
            };
            (
                days.or(end_days),
                sd.metadata("metadata")?.unwrap_or_default(),
                sd.str("description").map(str::to_owned),
            )
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "subscription_data",
                "subscription_data is only allowed in subscription mode.".to_owned(),
            ));
        }
        None => (None, Default::default(), None),
    };
    for t in p.strings("payment_method_types")? {
        if t != "card" {
            return Err(ApiError::invalid(
                "payment_method_types",
                format!("The sim only supports card, not {t}."),
            ));
        }
    }
    let expires_at = p.i64("expires_at")?.unwrap_or(st.now + 86_400);
    if expires_at <= st.now + 1_800 || expires_at > st.now + 86_400 {
        return Err(ApiError::invalid(
            "expires_at",
            "expires_at must be between 30 minutes and 24 hours from now.".to_owned(),
        ));
    }
    let id = st.id("cs_test");
    let mut session_lines = Vec::new();
    for (price, quantity) in lines {
        session_lines.push(SessionLine {
            id: st.id("li"),
            price,
            quantity,
        });
    }
    st.sessions.push(CheckoutSession {
        id: id.clone(),
        mode: mode.to_owned(),
        status: SessionStatus::Open,
        payment_status: "unpaid",
        customer: p.str("customer").map(str::to_owned),
        customer_email: p.str("customer_email").map(str::to_owned),
        customer_creation: match mode {
            "payment" => Some(
                p.str("customer_creation")
                    .unwrap_or("if_required")
                    .to_owned(),
            ),
            _ => None,
        },
        client_reference_id: p.str("client_reference_id").map(str::to_owned),
        metadata: p.metadata("metadata")?.unwrap_or_default(),
        lines: session_lines,
        success_url: Some(success_url),
        cancel_url: p.str("cancel_url").map(str::to_owned),
        allow_promotion_codes: p.bool("allow_promotion_codes")?,
        trial_period_days: trial,
        subscription_metadata: sub_meta,
        subscription_description: sub_desc,
        subscription: None,
        invoice: None,
        payment_intent: None,
        created: st.now,
        expires_at,
        currency: currency.unwrap_or_else(|| "usd".to_owned()),
        amount_subtotal: total,
        amount_total: total,
        locale: p.str("locale").map(str::to_owned),
        collected_email: None,
        pending_payment_method: None,
    });
    Ok(id)
}

async fn create(State(sim): State<Arc<Shared>>, b: Bytes) -> ApiResult {
    let p = body(&b)?;
    let mut allowed = ACCEPTED.to_vec();
    allowed.extend(IGNORED);
    p.allow(&allowed)?;
    sim.with(|st| {
        let id = build(st, &p)?;
        let v = st
            .session(&id)
            .map(|s| render::session(st, s))
            .unwrap_or_default();
        one(st, &p, v)
    })
}

async fn retrieve(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    q: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &q, "checkout.session", &id, "session", |st| {
        st.session(&id).map(|s| render::session(st, s))
    })
}

async fn line_items(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    q: RawQuery,
) -> ApiResult {
    let p = list_query(&q, &[])?;
    let url = format!("/v1/checkout/sessions/{id}/line_items");
    list_page(&sim, &p, &url, |st| {
        let s = st
            .session(&id)
            .ok_or_else(|| ApiError::missing_resource("checkout.session", &id, "session"))?;
        // Line items list in the order they were given, not newest first.
        Ok(render::line_items(st, s))
    })
}

async fn expire_session(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    b: Bytes,
) -> ApiResult {
    let p = body(&b)?;
    p.allow(&["expand"])?;
    sim.with(|st| {
        match st.session(&id).map(|s| s.status) {
            None => return Err(ApiError::missing_resource("checkout.session", &id, "session")),
            Some(SessionStatus::Open) => expire(st, &id)?,
            Some(other) => {
                return Err(ApiError::state(format!(
                    "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"{}\".",
                    other.as_str()
                )));
            }
        }
        let v = st.session(&id).map(|s| render::session(st, s)).unwrap_or_default();
        one(st, &p, v)
    })
}

async fn list(State(sim): State<Arc<Shared>>, q: RawQuery) -> ApiResult {
    let p = list_query(
        &q,
        &[
            "customer",
            "subscription",
            "payment_intent",
            "status",
            "created",
        ],
    )?;
    list_page(&sim, &p, "/v1/checkout/sessions", |st| {
        Ok(st
            .sessions
            .iter()
            .rev()
            .filter(|s| {
                p.str("customer")
                    .is_none_or(|c| s.customer.as_deref() == Some(c))
            })
            .filter(|s| {
                p.str("subscription")
                    .is_none_or(|c| s.subscription.as_deref() == Some(c))
            })
            .filter(|s| {
                p.str("payment_intent")
                    .is_none_or(|c| s.payment_intent.as_deref() == Some(c))
            })
            .filter(|s| p.str("status").is_none_or(|c| s.status.as_str() == c))
            .map(|s| render::session(st, s))
            .collect())
    })
}

async fn create_portal(State(sim): State<Arc<Shared>>, b: Bytes) -> ApiResult {
    let p = body(&b)?;
    p.allow(&[
        "customer",
        "return_url",
        "configuration",
        "locale",
        "on_behalf_of",
        "expand",
    ])?;
    let customer = p.req_str("customer")?.to_owned();
    sim.with(|st| {
        st.customer(&customer)
            .ok_or_else(|| ApiError::missing_resource("customer", &customer, "customer"))?;
        let id = st.id("bps");
        st.portal_sessions.push(PortalSession {
            id: id.clone(),
            customer,
            return_url: p.str("return_url").map(str::to_owned),
            created: st.now,
            locale: p.str("locale").map(str::to_owned),
            flash: None,
        });
        let v = st
            .portal_session(&id)
            .map(|s| render::portal_session(st, s))
            .unwrap_or_default();
        one(st, &p, v)
    })
}
