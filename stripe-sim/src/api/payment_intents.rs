//! PaymentIntents: create, retrieve, list, update, cancel and confirm (confirm also with a
//! publishable key and the intent's `client_secret`, as Stripe.js calls it). Payment-mode
//! Checkout creates intents of its own.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Extension, Router};

use super::{body_params, list_page, list_query, nullable, one, query_params};
use crate::auth::KeyKind;
use crate::billing::confirm;
use crate::billing::intents::{self, CANCELLATION_REASONS, IntentUpdate};
use crate::error::ApiError;
use crate::form::Params;
use crate::http::ApiResult;
use crate::model::{Address, NewIntent, ShippingDetails};
use crate::render::payments as render;
use crate::shared::Shared;
use crate::store::Store;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/payment_intents", get(list).post(create))
        .route("/payment_intents/{id}", get(retrieve).post(update))
        .route("/payment_intents/{id}/cancel", post(cancel))
        .route("/payment_intents/{id}/confirm", post(confirm_intent))
}

/// Currencies the sim accepts (lower case, ISO 4217), a subset of Stripe's: with the zero-decimal
/// `krw` and Stripe's three-decimal ones (`bhd`, `jod`, `kwd`, `omr`, `tnd`).
const CURRENCIES: [&str; 26] = [
    "usd", "eur", "gbp", "chf", "jpy", "cad", "aud", "nzd", "sek", "nok", "dkk", "pln", "czk",
    "huf", "mxn", "brl", "sgd", "hkd", "inr", "aed", "krw", "bhd", "jod", "kwd", "omr", "tnd",
];

fn amount(value: Option<i64>) -> Result<Option<i64>, ApiError> {
    match value {
        Some(a) if a < 1 => Err(ApiError::invalid(
            "amount",
            "This value must be greater than or equal to 1.".to_owned(),
        )),
        other => Ok(other),
    }
}

fn currency(value: Option<&str>) -> Result<String, ApiError> {
    let raw = value
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::missing("currency"))?;
    let lower = raw.to_lowercase();
    if CURRENCIES.contains(&lower.as_str()) {
        Ok(lower)
    } else {
        Err(ApiError::invalid(
            "currency",
            format!(
                "Invalid currency: {raw}. Stripe currently supports these currencies: {}",
                CURRENCIES.join(", ")
            ),
        ))
    }
}

/// `payment_method_types[]` (card only) or `automatic_payment_methods[enabled]`, not both.
fn automatic_methods(params: &Params) -> Result<bool, ApiError> {
    let types = params.strings("payment_method_types")?;
    if let Some(other) = types.iter().find(|t| t.as_str() != "card") {
        return Err(ApiError::invalid(
            "payment_method_types",
            format!(
                "The payment method type \"{other}\" is invalid. stripe-sim supports \"card\" only."
            ),
        ));
    }
    let automatic = match params.child("automatic_payment_methods")? {
        Some(o) => {
            o.allow(&["enabled", "allow_redirects"])?;
            o.bool("enabled")?.unwrap_or(false)
        }
        None => false,
    };
    if automatic && !types.is_empty() {
        return Err(ApiError::invalid(
            "automatic_payment_methods",
            "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.".to_owned(),
        ));
    }
    Ok(automatic)
}

/// `allowed_payment_method_types`: a filter on the account's methods; the sim confirms intents with
/// cards only, so a list must include `card`.
fn check_allowed_methods(params: &Params) -> Result<(), ApiError> {
    let allowed = params.strings("allowed_payment_method_types")?;
    if !allowed.is_empty() && !allowed.iter().any(|t| t == "card") {
        return Err(ApiError::invalid(
            "allowed_payment_method_types",
            "stripe-sim confirms PaymentIntents with cards only: the list must include \"card\"."
                .to_owned(),
        ));
    }
    Ok(())
}

fn new_intent(params: &Params) -> Result<NewIntent, ApiError> {
    check_allowed_methods(params)?;
    let amount = amount(params.i64("amount")?)?.ok_or_else(|| ApiError::missing("amount"))?;
    Ok(NewIntent {
        amount,
        currency: currency(params.str("currency"))?,
        customer: params
            .str("customer")
            .filter(|c| !c.is_empty())
            .map(str::to_owned),
        metadata: params.metadata("metadata")?.unwrap_or_default(),
        description: nullable(params, "description").flatten(),
        receipt_email: nullable(params, "receipt_email").flatten(),
        automatic_payment_methods: automatic_methods(params)?,
        shipping: shipping(params)?,
        tax_calculation: tax_calculation(params)?,
        ..NewIntent::default()
    })
}

/// `shipping[name]`, `shipping[address][…]` (phone, carrier and tracking number are accepted and
/// not kept).
fn shipping(params: &Params) -> Result<Option<ShippingDetails>, ApiError> {
    let Some(s) = params.child("shipping")? else {
        return Ok(None);
    };
    s.allow(&["name", "address", "phone", "carrier", "tracking_number"])?;
    let a = s
        .child("address")?
        .ok_or_else(|| ApiError::missing(&s.name("address")))?;
    a.allow(&["line1", "line2", "city", "state", "postal_code", "country"])?;
    let text = |k: &str| a.str(k).map(str::to_owned).filter(|v| !v.is_empty());
    Ok(Some(ShippingDetails {
        name: s.req_str("name")?.to_owned(),
        address: Address {
            line1: text("line1"),
            line2: text("line2"),
            city: text("city"),
            state: text("state"),
            postal_code: text("postal_code"),
            country: text("country").map(|c| c.to_ascii_uppercase()),
        },
    }))
}

/// `hooks[inputs][tax][calculation]`: the Tax Calculation whose total the amount is.
fn tax_calculation(params: &Params) -> Result<Option<String>, ApiError> {
    let Some(hooks) = params.child("hooks")? else {
        return Ok(None);
    };
    hooks.allow(&["inputs"])?;
    let Some(inputs) = hooks.child("inputs")? else {
        return Ok(None);
    };
    inputs.allow(&["tax"])?;
    let Some(tax) = inputs.child("tax")? else {
        return Ok(None);
    };
    tax.allow(&["calculation"])?;
    Ok(Some(tax.req_str("calculation")?.to_owned()))
}

/// The intent as it is now, with `expand[]` applied.
fn answer(store: &Store, params: &Params, id: &str) -> ApiResult {
    let object = store
        .payment_intent(id)
        .map(render::payment_intent)
        .ok_or_else(|| ApiError::missing_resource("payment_intent", id, "intent"))?;
    one(store, params, object)
}

async fn create(State(sim): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&[
        "amount",
        "currency",
        "customer",
        "metadata",
        "payment_method_types",
        "allowed_payment_method_types",
        "automatic_payment_methods",
        "description",
        "receipt_email",
        "shipping",
        "hooks",
        "expand",
    ])?;
    let new = new_intent(&params)?;
    sim.with(|store| {
        let id = intents::create(store, new)?;
        answer(store, &params, &id)
    })
}

async fn update(State(sim): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&[
        "amount",
        "metadata",
        "description",
        "customer",
        "receipt_email",
        "shipping",
        "hooks",
        "expand",
    ])?;
    let change = IntentUpdate {
        amount: amount(params.i64("amount")?)?,
        metadata: params.metadata("metadata")?,
        description: nullable(&params, "description"),
        customer: nullable(&params, "customer"),
        receipt_email: nullable(&params, "receipt_email"),
        shipping: shipping(&params)?,
        tax_calculation: tax_calculation(&params)?,
    };
    sim.with(|store| {
        intents::update(store, &id, change)?;
        answer(store, &params, &id)
    })
}

async fn cancel(State(sim): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&["cancellation_reason", "expand"])?;
    let reason = params.str("cancellation_reason").filter(|r| !r.is_empty());
    if let Some(r) = reason.filter(|r| !CANCELLATION_REASONS.contains(r)) {
        return Err(ApiError::invalid(
            "cancellation_reason",
            format!(
                "Invalid cancellation_reason: must be one of {}. Received: {r}",
                CANCELLATION_REASONS.join(", ")
            ),
        ));
    }
    sim.with(|store| {
        intents::cancel(store, &id, reason.map(str::to_owned))?;
        answer(store, &params, &id)
    })
}

/// A publishable key must show the intent's `client_secret`; a secret key may, and if it
/// does the secret must match too.
fn check_client_secret(
    store: &Store,
    id: &str,
    key: KeyKind,
    given: Option<&str>,
) -> Result<(), ApiError> {
    let intent = store
        .payment_intent(id)
        .ok_or_else(|| ApiError::missing_resource("payment_intent", id, "intent"))?;
    match given {
        None if key == KeyKind::Publishable => Err(ApiError::missing("client_secret")),
        Some(s) if s != intent.client_secret => Err(ApiError::coded(
            "payment_intent_invalid_parameter",
            Some("client_secret"),
            "The client_secret provided does not match the client_secret associated with the PaymentIntent.".to_owned(),
        )),
        _ => Ok(()),
    }
}

async fn confirm_intent(
    State(sim): State<Arc<Shared>>,
    Extension(key): Extension<KeyKind>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&[
        "payment_method",
        "client_secret",
        "return_url",
        "use_stripe_sdk",
        "expand",
    ])?;
    let return_url = params.str("return_url").filter(|u| !u.is_empty());
    if let Some(u) = return_url.filter(|u| !u.starts_with("http://") && !u.starts_with("https://"))
    {
        return Err(ApiError::invalid(
            "return_url",
            format!("Not a valid URL: {u}"),
        ));
    }
    let payment_method = params.str("payment_method").filter(|p| !p.is_empty());
    let result = sim.with(|store| {
        check_client_secret(store, &id, key, params.str("client_secret"))?;
        confirm::confirm(store, &id, payment_method, return_url.map(str::to_owned))?;
        answer(store, &params, &id)
    });
    for_key(key, result)
}

/// What a publishable key gets back: the intent (also the one inside a decline's error) cut
/// down to the fields Stripe shows a browser. Secret keys see everything.
fn for_key(key: KeyKind, result: ApiResult) -> ApiResult {
    if key == KeyKind::Secret {
        return result;
    }
    match result {
        Ok(axum::Json(intent)) => Ok(axum::Json(render::publishable_intent(&intent))),
        Err(mut error) => {
            if let Some(intent) = error
                .details
                .as_mut()
                .and_then(|d| d.get_mut("payment_intent"))
            {
                *intent = render::publishable_intent(intent);
            }
            Err(error)
        }
    }
}

/// `GET /v1/payment_intents/{id}`: with a publishable key (as `stripe.retrievePaymentIntent`
/// calls it) only with the intent's `client_secret`, answering the publishable view.
async fn retrieve(
    State(sim): State<Arc<Shared>>,
    Extension(key): Extension<KeyKind>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    let params = query_params(&query)?;
    params.allow(&["expand", "client_secret"])?;
    let result = sim.read(|store| {
        check_client_secret(store, &id, key, params.str("client_secret"))?;
        answer(store, &params, &id)
    });
    for_key(key, result)
}

async fn list(State(sim): State<Arc<Shared>>, query: RawQuery) -> ApiResult {
    let params = list_query(&query, &["customer"])?;
    let customer = params.str("customer");
    list_page(&sim, &params, "/v1/payment_intents", |store| {
        Ok(store
            .payment_intents
            .iter()
            .rev()
            .filter(|p| customer.is_none_or(|c| p.customer.as_deref() == Some(c)))
            .map(render::payment_intent)
            .collect())
    })
}
