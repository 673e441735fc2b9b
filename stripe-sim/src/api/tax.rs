//! Tax Calculations (`/v1/tax/calculations`): the tax an order would carry, from the sim's rate
//! table (`billing::tax`). An app paying on its own page attaches one to its PaymentIntent
//! (`hooks[inputs][tax][calculation]`).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};

use super::{body_params, list_page, list_query, one, retrieve_one};
use crate::billing::tax::{tax_of, taxation};
use crate::error::ApiError;
use crate::form::{Obj, Params};
use crate::http::ApiResult;
use crate::model::{Address, TaxCalculation, TaxLine, TaxedShipping};
use crate::render::tax as render;
use crate::shared::Shared;
use crate::store::Store;
use crate::time::DAY;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/tax/calculations", post(create))
        .route("/tax/calculations/{id}", get(retrieve))
        .route("/tax/calculations/{id}/line_items", get(line_items))
}

/// Stripe's preset tax code for goods when none is given: general tangible goods.
const GENERAL_GOODS: &str = "txcd_99999999";
/// Shipping's own tax code.
const SHIPPING: &str = "txcd_92010001";

fn behavior(obj: &Obj<'_>) -> Result<String, ApiError> {
    let b = obj.str("tax_behavior").unwrap_or("exclusive");
    if !matches!(b, "exclusive" | "inclusive") {
        return Err(ApiError::invalid(
            &obj.name("tax_behavior"),
            "Invalid tax_behavior: must be one of exclusive or inclusive".to_owned(),
        ));
    }
    Ok(b.to_owned())
}

fn amount(obj: &Obj<'_>) -> Result<i64, ApiError> {
    let a = obj
        .i64("amount")?
        .ok_or_else(|| ApiError::missing(&obj.name("amount")))?;
    if a < 0 {
        return Err(ApiError::invalid(
            &obj.name("amount"),
            "This value must be greater than or equal to 0.".to_owned(),
        ));
    }
    Ok(a)
}

/// `customer_details`: the address (its country is required), where it came from, and tax ids.
struct TaxCustomer {
    address: Address,
    source: String,
    tax_ids: Vec<(String, String)>,
}

fn customer(params: &Params) -> Result<TaxCustomer, ApiError> {
    let details = params
        .child("customer_details")?
        .ok_or_else(|| ApiError::missing("customer_details"))?;
    details.allow(&[
        "address",
        "address_source",
        "tax_ids",
        "taxability_override",
        "ip_address",
    ])?;
    let a = details
        .child("address")?
        .ok_or_else(|| ApiError::missing(&details.name("address")))?;
    a.allow(&["line1", "line2", "city", "state", "postal_code", "country"])?;
    let text = |k: &str| a.str(k).map(str::to_owned).filter(|v| !v.is_empty());
    let address = Address {
        line1: text("line1"),
        line2: text("line2"),
        city: text("city"),
        state: text("state"),
        postal_code: text("postal_code"),
        country: Some(a.req_str("country")?.to_ascii_uppercase()),
    };
    let source = details
        .str("address_source")
        .unwrap_or("billing")
        .to_owned();
    let mut tax_ids = Vec::new();
    for id in details.list("tax_ids")? {
        id.allow(&["type", "value"])?;
        tax_ids.push((
            id.req_str("type")?.to_owned(),
            id.req_str("value")?.to_owned(),
        ));
    }
    Ok(TaxCustomer {
        address,
        source,
        tax_ids,
    })
}

fn build(store: &mut Store, params: &Params) -> Result<String, ApiError> {
    let currency = params.req_str("currency")?.to_lowercase();
    let TaxCustomer {
        address,
        source: address_source,
        tax_ids,
    } = customer(params)?;
    let country = address.country.clone().unwrap_or_default();
    let state = address.state.clone();
    let eu_vat = tax_ids.iter().any(|(kind, _)| kind == "eu_vat");
    let items = params.list("line_items")?;
    if items.is_empty() {
        return Err(ApiError::missing("line_items"));
    }
    let mut lines = Vec::new();
    for item in &items {
        item.allow(&[
            "amount",
            "reference",
            "quantity",
            "tax_behavior",
            "tax_code",
            "product",
            "metadata",
        ])?;
        let amount = amount(item)?;
        let tax_behavior = behavior(item)?;
        // Stripe takes the product's tax code when the line names a product and no code.
        let product_code = item
            .str("product")
            .and_then(|id| store.product(id))
            .and_then(|p| p.tax_code.clone());
        let tax_code = item
            .str("tax_code")
            .map(str::to_owned)
            .or(product_code)
            .unwrap_or_else(|| GENERAL_GOODS.to_owned());
        let taxation = taxation(&country, state.as_deref(), Some(&tax_code), eu_vat);
        let amount_tax = tax_of(amount, taxation.rate_mp, tax_behavior == "inclusive");
        lines.push(TaxLine {
            id: store.id("tax_li"),
            amount,
            quantity: item.i64("quantity")?.unwrap_or(1),
            reference: item.str("reference").map(str::to_owned),
            product: item.str("product").map(str::to_owned),
            tax_behavior,
            tax_code,
            amount_tax,
            taxation,
        });
    }
    let shipping = match params.child("shipping_cost")? {
        Some(s) => {
            s.allow(&["amount", "tax_behavior", "tax_code", "shipping_rate"])?;
            let amount = amount(&s)?;
            let tax_behavior = behavior(&s)?;
            let tax_code = s.str("tax_code").unwrap_or(SHIPPING).to_owned();
            let rate = taxation(&country, state.as_deref(), Some(&tax_code), eu_vat).rate_mp;
            Some(TaxedShipping {
                amount,
                amount_tax: tax_of(amount, rate, tax_behavior == "inclusive"),
                tax_behavior,
                tax_code,
            })
        }
        None => None,
    };
    let id = store.id("taxcalc");
    store.tax_calculations.push(TaxCalculation {
        id: id.clone(),
        currency,
        customer: params.str("customer").map(str::to_owned),
        address,
        address_source,
        tax_ids,
        lines,
        shipping,
        created: store.now,
        expires_at: store.now + 90 * DAY,
    });
    Ok(id)
}

async fn create(State(sim): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&[
        "currency",
        "line_items",
        "customer",
        "customer_details",
        "shipping_cost",
        "tax_date",
        "expand",
    ])?;
    sim.with(|store| {
        let id = build(store, &params)?;
        let object = store
            .tax_calculation(&id)
            .map(render::calculation)
            .unwrap_or_default();
        one(store, &params, object)
    })
}

async fn retrieve(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    retrieve_one(
        &sim,
        &query,
        "tax.calculation",
        &id,
        "calculation",
        |store| store.tax_calculation(&id).map(render::calculation),
    )
}

async fn line_items(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    let params = list_query(&query, &[])?;
    let url = format!("/v1/tax/calculations/{id}/line_items");
    list_page(&sim, &params, &url, |store| {
        let calc = store
            .tax_calculation(&id)
            .ok_or_else(|| ApiError::missing_resource("tax.calculation", &id, "calculation"))?;
        Ok(calc.lines.iter().map(render::line_item).collect())
    })
}
