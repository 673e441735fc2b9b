//! Checkout Sessions: create (validating the request the way Stripe does), retrieve, list,
//! line items, expire.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};

use super::{body_params, list_page, list_query, one, retrieve_one};
use crate::billing::checkout::expire;
use crate::error::ApiError;
use crate::form::{Obj, Params};
use crate::http::ApiResult;
use crate::model::{CheckoutSession, Meta, Price, SessionLine, SessionStatus};
use crate::render::checkout as render;
use crate::shared::Shared;
use crate::store::Store;
use crate::time::DAY;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/checkout/sessions", get(list).post(create))
        .route("/checkout/sessions/{id}", get(retrieve))
        .route("/checkout/sessions/{id}/line_items", get(list_line_items))
        .route("/checkout/sessions/{id}/expire", post(expire_session))
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

/// The priced line items of a new session, all in one currency.
struct Lines {
    items: Vec<(String, i64)>,
    currency: Option<String>,
    total: i64,
}

/// `subscription_data[…]`, for subscription mode only.
#[derive(Default)]
struct SubscriptionData {
    trial_period_days: Option<i64>,
    metadata: Meta,
    description: Option<String>,
}

/// `mode` (subscription or payment) and `ui_mode` (hosted only).
fn mode(params: &Params) -> Result<&str, ApiError> {
    let mode = params.req_str("mode")?;
    if !matches!(mode, "subscription" | "payment") {
        return Err(ApiError::invalid(
            "mode",
            format!("Invalid mode: {mode} (the sim supports subscription and payment)"),
        ));
    }
    if let Some(ui) = params
        .str("ui_mode")
        .filter(|u| !matches!(*u, "hosted" | "hosted_page"))
    {
        return Err(ApiError::invalid(
            "ui_mode",
            format!("ui_mode {ui} is not supported by the sim"),
        ));
    }
    Ok(mode)
}

/// `customer` or `customer_email` (not both); the customer must exist.
fn check_customer(store: &Store, params: &Params) -> Result<(), ApiError> {
    if params.str("customer").is_some() && params.str("customer_email").is_some() {
        return Err(ApiError::invalid(
            "customer_email",
            "You may only specify one of these parameters: customer, customer_email.".to_owned(),
        ));
    }
    if let Some(c) = params.str("customer")
        && store.customer(c).is_none()
    {
        return Err(ApiError::missing_resource("customer", c, "customer"));
    }
    Ok(())
}

/// One `line_items[N]` price: it must exist, be active and fit the mode.
fn line_price<'a>(store: &'a Store, item: &Obj<'_>, mode: &str) -> Result<&'a Price, ApiError> {
    let price_id = item.req_str("price")?;
    let price = store
        .price(price_id)
        .ok_or_else(|| ApiError::missing_resource("price", price_id, &item.name("price")))?;
    if !price.active {
        return Err(ApiError::invalid(
            &item.name("price"),
            format!("The price specified ({price_id}) is inactive."),
        ));
    }
    let message = match (mode, price.recurring.is_some()) {
        ("payment", true) => {
            "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices."
        }
        ("subscription", false) => {
            "You must provide at least one recurring price in `subscription` mode when using prices."
        }
        _ => return Ok(price),
    };
    Err(ApiError::invalid(&item.name("price"), message.to_owned()))
}

/// `line_items[N][price|quantity]`: at least one, priced, in one currency.
fn line_items(store: &Store, params: &Params, mode: &str) -> Result<Lines, ApiError> {
    let items = params.list("line_items")?;
    if items.is_empty() {
        return Err(ApiError::missing("line_items"));
    }
    let mut lines = Lines {
        items: Vec::new(),
        currency: None,
        total: 0,
    };
    for item in &items {
        item.allow(&["price", "quantity", "adjustable_quantity", "metadata"])?;
        let price = line_price(store, item, mode)?;
        if lines
            .currency
            .as_ref()
            .is_some_and(|c| *c != price.currency)
        {
            return Err(ApiError::invalid(
                &item.name("price"),
                "All prices must use the same currency.".to_owned(),
            ));
        }
        lines.currency = Some(price.currency.clone());
        let quantity = item.i64("quantity")?.unwrap_or(1);
        if quantity < 1 {
            return Err(ApiError::invalid(
                &item.name("quantity"),
                "Quantity must be at least 1.".to_owned(),
            ));
        }
        lines.total += price.unit_amount * quantity;
        lines.items.push((price.id.clone(), quantity));
    }
    Ok(lines)
}

/// `subscription_data`: a trial (`trial_period_days`, or `trial_end` rounded down to whole
/// days), metadata and description for the subscription Checkout creates.
fn subscription_data(now: i64, params: &Params, mode: &str) -> Result<SubscriptionData, ApiError> {
    let Some(data) = params.child("subscription_data")? else {
        return Ok(SubscriptionData::default());
    };
    if mode != "subscription" {
        return Err(ApiError::invalid(
            "subscription_data",
            "subscription_data is only allowed in subscription mode.".to_owned(),
        ));
    }
    data.allow(&[
        "trial_period_days",
        "trial_end",
        "metadata",
        "description",
        "trial_settings",
    ])?;
    let days = data.i64("trial_period_days")?;
    if days.is_some_and(|d| !(1..=730).contains(&d)) {
        return Err(ApiError::invalid(
            "subscription_data[trial_period_days]",
            "trial_period_days must be between 1 and 730.".to_owned(),
        ));
    }
    let end_days = match data.i64("trial_end")? {
        Some(end) if end <= now + 2 * DAY => {
            return Err(ApiError::invalid(
                "subscription_data[trial_end]",
                "trial_end must be at least 48 hours in the future.".to_owned(),
            ));
        }
        Some(end) => Some((end - now).div_euclid(DAY)),
        None => None,
    };
    Ok(SubscriptionData {
        trial_period_days: days.or(end_days),
        metadata: data.metadata("metadata")?.unwrap_or_default(),
        description: data.str("description").map(str::to_owned),
    })
}

fn check_payment_method_types(params: &Params) -> Result<(), ApiError> {
    for kind in params.strings("payment_method_types")? {
        if kind != "card" {
            return Err(ApiError::invalid(
                "payment_method_types",
                format!("The sim only supports card, not {kind}."),
            ));
        }
    }
    Ok(())
}

/// `expires_at`: 30 minutes to 24 hours from now (the default).
fn expires_at(now: i64, params: &Params) -> Result<i64, ApiError> {
    let expires_at = params.i64("expires_at")?.unwrap_or(now + DAY);
    if expires_at <= now + 1_800 || expires_at > now + DAY {
        return Err(ApiError::invalid(
            "expires_at",
            "expires_at must be between 30 minutes and 24 hours from now.".to_owned(),
        ));
    }
    Ok(expires_at)
}

/// Validates a create request and stores the new open session; returns its id.
fn build(store: &mut Store, params: &Params) -> Result<String, ApiError> {
    let mode = mode(params)?;
    let success_url = params.req_str("success_url")?.to_owned();
    check_customer(store, params)?;
    let lines = line_items(store, params, mode)?;
    let subscription = subscription_data(store.now, params, mode)?;
    check_payment_method_types(params)?;
    let expires_at = expires_at(store.now, params)?;
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
        subscription: None,
        invoice: None,
        payment_intent: None,
        created: store.now,
        expires_at,
        currency: lines.currency.unwrap_or_else(|| "usd".to_owned()),
        amount_subtotal: lines.total,
        amount_total: lines.total,
        locale: params.str("locale").map(str::to_owned),
        collected_email: None,
        pending_payment_method: None,
    });
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
