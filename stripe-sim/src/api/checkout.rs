//! Checkout Sessions: create (parameters validated in `checkout_params`), retrieve, list,
//! line items, expire.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};

use super::checkout_params::{
    check_customer, check_payment_method_types, expires_at, line_items, mode,
    payment_intent_metadata, payment_methods, subscription_data,
};
use super::checkout_pricing::{automatic_tax, discount, shipping};
use super::{body_params, list_page, list_query, one, retrieve_one};
use crate::billing::checkout::expire;
use crate::error::ApiError;
use crate::form::Params;
use crate::http::ApiResult;
use crate::model::{CheckoutSession, SessionLine, SessionStatus};
use crate::render::checkout as render;
use crate::shared::Shared;
use crate::store::Store;
use crate::time::wall_clock;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/checkout/sessions", get(list).post(create))
        .route("/checkout/sessions/{id}", get(retrieve))
        .route("/checkout/sessions/{id}/line_items", get(list_line_items))
        .route("/checkout/sessions/{id}/expire", post(expire_session))
}

/// Parameters accepted and honoured; `IGNORED` are accepted for compatibility but have no
/// effect in the sim (tax, address collection, …).
const ACCEPTED: [&str; 22] = [
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
    "allowed_payment_method_types",
    "expires_at",
    "locale",
    "expand",
    "ui_mode",
    "payment_intent_data",
    "shipping_address_collection",
    "shipping_options",
    "discounts",
    "automatic_tax",
];
const IGNORED: [&str; 6] = [
    "billing_address_collection",
    "customer_update",
    "payment_method_collection",
    "tax_id_collection",
    "phone_number_collection",
    "invoice_creation",
];

/// Validates a create request and stores the new open session; returns its id.
fn build(store: &mut Store, params: &Params) -> Result<String, ApiError> {
    let mode = mode(params)?;
    let success_url = params.req_str("success_url")?.to_owned();
    check_customer(store, params)?;
    let lines = line_items(store, params, mode)?;
    let subscription = subscription_data(store.now, params, mode)?;
    let payment_intent_metadata = payment_intent_metadata(params, mode)?;
    check_payment_method_types(params)?;
    // Stamped like events: in real time unless the clock has been moved past it, so an app
    // that computes `expires_at` from its own clock is measured against the same instant.
    let created = store.now.max(wall_clock());
    let expires_at = expires_at(created, params)?;
    let currency = lines.currency.clone().unwrap_or_else(|| "usd".to_owned());
    let shipping = shipping(store, params, mode, &currency)?;
    let shipping_rate = shipping.options.first().cloned();
    let discount = discount(store, params, mode, &currency, lines.total)?;
    let amount_discount = discount.as_ref().map_or(0, |(_, amount)| *amount);
    let id = store.id("cs_test");
    let session_lines = lines
        .items
        .into_iter()
        .map(|(price, quantity)| SessionLine {
            id: store.id("li"),
            price,
            quantity,
        })
        .collect();
    store.sessions.push(CheckoutSession {
        id: id.clone(),
        mode: mode.to_owned(),
        status: SessionStatus::Open,
        payment_status: "unpaid",
        customer: params.str("customer").map(str::to_owned),
        customer_email: params.str("customer_email").map(str::to_owned),
        customer_creation: (mode == "payment").then(|| {
            params
                .str("customer_creation")
                .unwrap_or("if_required")
                .to_owned()
        }),
        client_reference_id: params.str("client_reference_id").map(str::to_owned),
        metadata: params.metadata("metadata")?.unwrap_or_default(),
        lines: session_lines,
        success_url: Some(success_url),
        cancel_url: params.str("cancel_url").map(str::to_owned),
        allow_promotion_codes: params.bool("allow_promotion_codes")?,
        trial_period_days: subscription.trial_period_days,
        subscription_metadata: subscription.metadata,
        subscription_description: subscription.description,
        payment_intent_metadata,
        subscription: None,
        invoice: None,
        payment_intent: None,
        created,
        expires_at,
        currency,
        amount_subtotal: lines.total,
        // Worked out with the discount, shipping and tax by `totals::recompute` below.
        amount_total: lines.total,
        locale: params.str("locale").map(str::to_owned),
        collected_email: None,
        pending_payment_method: None,
        payment_method_types: payment_methods(params)?,
        shipping_countries: shipping.countries,
        shipping_options: shipping.options,
        shipping_rate,
        shipping_details: None,
        shipping_chosen: false,
        discount: discount.map(|(applied, _)| applied),
        amount_discount,
        automatic_tax: automatic_tax(params)?,
        amount_tax: 0,
        line_taxes: Vec::new(),
        shipping_tax: 0,
        tax_located: false,
    });
    crate::billing::totals::recompute(store, &id);
    Ok(id)
}

async fn create(State(sim): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let params = body_params(&body)?;
    let mut allowed = ACCEPTED.to_vec();
    allowed.extend(IGNORED);
    params.allow(&allowed)?;
    sim.with(|store| {
        let id = build(store, &params)?;
        let object = rendered(store, &id);
        one(store, &params, object)
    })
}

fn rendered(store: &Store, id: &str) -> serde_json::Value {
    store
        .session(id)
        .map(|s| render::session(store, s))
        .unwrap_or_default()
}

async fn retrieve(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &query, "checkout.session", &id, "session", |store| {
        store.session(&id).map(|s| render::session(store, s))
    })
}

async fn list_line_items(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    let params = list_query(&query, &[])?;
    let url = format!("/v1/checkout/sessions/{id}/line_items");
    list_page(&sim, &params, &url, |store| {
        let session = store
            .session(&id)
            .ok_or_else(|| ApiError::missing_resource("checkout.session", &id, "session"))?;
        // Line items list in the order they were given, not newest first.
        Ok(render::line_items(store, session))
    })
}

async fn expire_session(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&["expand"])?;
    sim.with(|store| {
        match store.session(&id).map(|s| s.status) {
            None => return Err(ApiError::missing_resource("checkout.session", &id, "session")),
            Some(SessionStatus::Open) => expire(store, &id)?,
            Some(other) => {
                return Err(ApiError::state(format!(
                    "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"{}\".",
                    other.as_str()
                )));
            }
        }
        let object = rendered(store, &id);
        one(store, &params, object)
    })
}

async fn list(State(sim): State<Arc<Shared>>, query: RawQuery) -> ApiResult {
    let params = list_query(
        &query,
        &[
            "customer",
            "subscription",
            "payment_intent",
            "status",
            "created",
        ],
    )?;
    let filter = |key: &str, value: Option<&str>| params.str(key).is_none_or(|v| value == Some(v));
    list_page(&sim, &params, "/v1/checkout/sessions", |store| {
        Ok(store
            .sessions
            .iter()
            .rev()
            .filter(|s| filter("customer", s.customer.as_deref()))
            .filter(|s| filter("subscription", s.subscription.as_deref()))
            .filter(|s| filter("payment_intent", s.payment_intent.as_deref()))
            .filter(|s| filter("status", Some(s.status.as_str())))
            .map(|s| render::session(store, s))
            .collect())
    })
}
