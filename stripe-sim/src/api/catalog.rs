//! Products and prices.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;

use super::{body, list_page, list_query, merge_metadata, nullable, one, retrieve_one, update_one};
use crate::Shared;
use crate::billing::payments::diff;
use crate::form::Params;
use crate::http::{ApiError, ApiResult};
use crate::objects::catalog as render;
use crate::state::{self, Price, Product, Recurring};

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/products", get(list_products).post(create_product))
        .route("/products/{id}", get(get_product).post(update_product))
        .route("/prices", get(list_prices).post(create_price))
        .route("/prices/{id}", get(get_price).post(update_price))
}

fn features(p: &Params) -> Result<Option<Vec<String>>, ApiError> {
    if !p.has("marketing_features") {
        return Ok(None);
    }
    p.list("marketing_features")?
        .iter()
        .map(|f| {
            f.allow(&["name"])?;
            f.req_str("name").map(str::to_owned)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

const PRODUCT_COMMON: [&str; 10] = [
    "name",
    "description",
    "active",
    "metadata",
    "marketing_features",
    "images",
    "url",
    "unit_label",
    "statement_descriptor",
    "expand",
];

async fn create_product(State(sim): State<Arc<Shared>>, b: Bytes) -> ApiResult {
    let p = body(&b)?;
    let mut allowed = PRODUCT_COMMON.to_vec();
    allowed.extend(["id", "type", "tax_code", "shippable"]);
    p.allow(&allowed)?;
    let name = p.req_str("name")?.to_owned();
    let marketing_features = features(&p)?.unwrap_or_default();
    let metadata = p.metadata("metadata")?.unwrap_or_default();
    let active = p.bool("active")?.unwrap_or(true);
    let images = p.strings("images")?;
    sim.with(|st| {
        let id = match p.str("id") {
            Some(custom) if st.product(custom).is_some() => {
                return Err(ApiError::invalid(
                    "id",
                    format!("Product already exists: {custom}"),
                ));
            }
            Some(custom) if !custom.is_empty() => custom.to_owned(),
            _ => st.id("prod"),
        };
        st.products.push(Product {
            id: id.clone(),
            name,
            description: p.str("description").map(str::to_owned),
            active,
            created: st.now,
            updated: st.now,
            metadata,
            marketing_features,
            default_price: None,
            images,
            url: p.str("url").map(str::to_owned),
            unit_label: p.str("unit_label").map(str::to_owned),
            statement_descriptor: p.str("statement_descriptor").map(str::to_owned),
        });
        let v = st.product(&id).map(render::product).unwrap_or_default();
        st.emit("product.created", v.clone(), None);
        one(st, &p, v)
    })
}

async fn get_product(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    q: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &q, "product", &id, "id", |st| {
        st.product(&id).map(render::product)
    })
}

async fn update_product(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    b: Bytes,
) -> ApiResult {
    let p = body(&b)?;
    let mut allowed = PRODUCT_COMMON.to_vec();
    allowed.extend(["default_price", "tax_code", "shippable"]);
    p.allow(&allowed)?;
    let feats = features(&p)?;
    let metadata = p.metadata("metadata")?;
    let active = p.bool("active")?;
    let images = if p.has("images") {
        Some(p.strings("images")?)
    } else {
        None
    };
    let current = |st: &state::State| st.product(&id).map(render::product);
    update_one(&sim, &p, "product", &id, current, |st| {
        if let Some(dp) = p.str("default_price").filter(|s| !s.is_empty())
            && st.price(dp).is_none_or(|pr| pr.product != id)
        {
            return Err(ApiError::missing_resource("price", dp, "default_price"));
        }
        let now = st.now;
        let Some(prod) = st.products.iter_mut().find(|x| x.id == id) else {
            return Err(ApiError::missing_resource("product", &id, "id"));
        };
        if let Some(n) = p.str("name").filter(|s| !s.is_empty()) {
            prod.name = n.to_owned();
        }
        if let Some(d) = nullable(&p, "description") {
            prod.description = d;
        }
        if let Some(d) = nullable(&p, "default_price") {
            prod.default_price = d;
        }
        if let Some(u) = nullable(&p, "url") {
            prod.url = u;
        }
        if let Some(u) = nullable(&p, "unit_label") {
            prod.unit_label = u;
        }
        if let Some(u) = nullable(&p, "statement_descriptor") {
            prod.statement_descriptor = u;
        }
        if let Some(a) = active {
            prod.active = a;
        }
        if let Some(f) = feats {
            prod.marketing_features = f;
        }
        if let Some(i) = images {
            prod.images = i;
        }
        merge_metadata(&mut prod.metadata, metadata);
        prod.updated = now;
        Ok(())
    })
}

async fn list_products(State(sim): State<Arc<Shared>>, q: RawQuery) -> ApiResult {
    let p = list_query(
        &q,
        &["active", "ids", "shippable", "url", "created", "type"],
    )?;
    let active = p.bool("active")?;
    let ids = p.strings("ids")?;
    list_page(&sim, &p, "/v1/products", |st| {
        Ok(st
            .products
            .iter()
            .rev()
            .filter(|x| active.is_none_or(|a| x.active == a))
            .filter(|x| ids.is_empty() || ids.contains(&x.id))
            .map(render::product)
            .collect())
    })
}

fn recurring(p: &Params) -> Result<Option<Recurring>, ApiError> {
    let Some(r) = p.child("recurring")? else {
        return Ok(None);
    };
    r.allow(&[
        "interval",
        "interval_count",
        "usage_type",
        "meter",
        "trial_period_days",
    ])?;
    if r.get("trial_period_days").is_some() {
        return Err(ApiError::invalid(
            "recurring[trial_period_days]",
            "trial_period_days is not supported on prices in this API version; pass subscription_data[trial_period_days] to Checkout.".to_owned(),
        ));
    }
    let interval = r.req_str("interval")?;
    if !matches!(interval, "day" | "week" | "month" | "year") {
        return Err(ApiError::invalid(
            "recurring[interval]",
            "Invalid recurring[interval]: must be one of day, week, month, or year".to_owned(),
        ));
    }
    let count = r.i64("interval_count")?.unwrap_or(1);
    if count < 1 {
        return Err(ApiError::invalid(
            "recurring[interval_count]",
            "interval_count must be at least 1".to_owned(),
        ));
    }
    Ok(Some(Recurring {
        interval: interval.to_owned(),
        interval_count: count,
    }))
}

async fn create_price(State(sim): State<Arc<Shared>>, b: Bytes) -> ApiResult {
    let p = body(&b)?;
    p.allow(&[
        "product",
        "product_data",
        "currency",
        "unit_amount",
        "unit_amount_decimal",
        "recurring",
        "lookup_key",
        "nickname",
        "metadata",
        "active",
        "tax_behavior",
        "transfer_lookup_key",
        "billing_scheme",
        "expand",
    ])?;
    let currency = p.req_str("currency")?.to_lowercase();
    let unit_amount = match (p.i64("unit_amount")?, p.str("unit_amount_decimal")) {
        (Some(a), _) => a,
        (None, Some(d)) => d.parse::<f64>().map(|f| f.round() as i64).map_err(|_| {
            ApiError::invalid("unit_amount_decimal", format!("Invalid decimal: {d}"))
        })?,
        (None, None) => return Err(ApiError::missing("unit_amount")),
    };
    if unit_amount < 0 {
        return Err(ApiError::invalid(
            "unit_amount",
            "This value must be greater than or equal to 0.".to_owned(),
        ));
    }
    let recurring = recurring(&p)?;
    let metadata = p.metadata("metadata")?.unwrap_or_default();
    let active = p.bool("active")?.unwrap_or(true);
    let transfer = p.bool("transfer_lookup_key")?.unwrap_or(false);
    let product_data = p.child("product_data")?;
    sim.with(|st| {
        let product = match (p.str("product"), &product_data) {
            (Some(id), _) => {
                st.product(id)
                    .ok_or_else(|| ApiError::missing_resource("product", id, "product"))?;
                id.to_owned()
            }
            (None, Some(pd)) => {
                pd.allow(&[
                    "name",
                    "metadata",
                    "active",
                    "unit_label",
                    "statement_descriptor",
                ])?;
                let id = st.id("prod");
                st.products.push(Product {
                    id: id.clone(),
                    name: pd.req_str("name")?.to_owned(),
                    description: None,
                    active: pd.bool("active")?.unwrap_or(true),
                    created: st.now,
                    updated: st.now,
                    metadata: pd.metadata("metadata")?.unwrap_or_default(),
                    marketing_features: Vec::new(),
                    default_price: None,
                    images: Vec::new(),
                    url: None,
                    unit_label: pd.str("unit_label").map(str::to_owned),
                    statement_descriptor: None,
                });
                let v = st.product(&id).map(render::product).unwrap_or_default();
                st.emit("product.created", v, None);
                id
            }
            (None, None) => return Err(ApiError::missing("product")),
        };
        let lookup_key = p
            .str("lookup_key")
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        if let Some(key) = &lookup_key {
            take_lookup_key(st, key, transfer)?;
        }
        let id = st.id("price");
        st.prices.push(Price {
            id: id.clone(),
            product,
            active,
            currency,
            unit_amount,
            recurring,
            lookup_key,
            nickname: p.str("nickname").map(str::to_owned),
            metadata,
            created: st.now,
            tax_behavior: p.str("tax_behavior").unwrap_or("unspecified").to_owned(),
        });
        let v = st.price(&id).map(render::price).unwrap_or_default();
        st.emit("price.created", v.clone(), None);
        one(st, &p, v)
    })
}

/// Lookup keys are unique; `transfer_lookup_key=true` moves one from its current price.
fn take_lookup_key(st: &mut state::State, key: &str, transfer: bool) -> Result<(), ApiError> {
    let Some(holder) = st
        .prices
        .iter()
        .find(|x| x.lookup_key.as_deref() == Some(key))
        .map(|x| x.id.clone())
    else {
        return Ok(());
    };
    if !transfer {
        return Err(ApiError::invalid(
            "lookup_key",
            format!("A price (`{holder}`) already uses that lookup key."),
        ));
    }
    let before = st.price(&holder).map(render::price).unwrap_or_default();
    if let Some(x) = st.prices.iter_mut().find(|x| x.id == holder) {
        x.lookup_key = None;
    }
    let after = st.price(&holder).map(render::price).unwrap_or_default();
    let prev = diff(&before, &after);
    st.emit("price.updated", after, prev);
    Ok(())
}

async fn get_price(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    q: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &q, "price", &id, "id", |st| {
        st.price(&id).map(render::price)
    })
}

async fn update_price(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    b: Bytes,
) -> ApiResult {
    let p = body(&b)?;
    p.allow(&[
        "active",
        "lookup_key",
        "nickname",
        "metadata",
        "transfer_lookup_key",
        "tax_behavior",
        "expand",
    ])?;
    let active = p.bool("active")?;
    let metadata = p.metadata("metadata")?;
    let transfer = p.bool("transfer_lookup_key")?.unwrap_or(false);
    let current = |st: &state::State| st.price(&id).map(render::price);
    update_one(&sim, &p, "price", &id, current, |st| {
        let lookup = nullable(&p, "lookup_key");
        if let Some(Some(key)) = &lookup
            && st.price(&id).and_then(|x| x.lookup_key.as_deref()) != Some(key.as_str())
        {
            take_lookup_key(st, key, transfer)?;
        }
        let Some(price) = st.prices.iter_mut().find(|x| x.id == id) else {
            return Err(ApiError::missing_resource("price", &id, "id"));
        };
        if let Some(a) = active {
            price.active = a;
        }
        if let Some(l) = lookup {
            price.lookup_key = l;
        }
        if let Some(n) = nullable(&p, "nickname") {
            price.nickname = n;
        }
        if let Some(t) = p.str("tax_behavior") {
            price.tax_behavior = t.to_owned();
        }
        merge_metadata(&mut price.metadata, metadata);
        Ok(())
    })
}

async fn list_prices(State(sim): State<Arc<Shared>>, q: RawQuery) -> ApiResult {
    let p = list_query(
        &q,
        &[
            "active",
            "currency",
            "product",
            "type",
            "lookup_keys",
            "recurring",
            "created",
        ],
    )?;
    let active = p.bool("active")?;
    let lookup_keys = p.strings("lookup_keys")?;
    let interval = match p.child("recurring")? {
        Some(r) => {
            r.allow(&["interval", "usage_type", "meter"])?;
            r.str("interval").map(str::to_owned)
        }
        None => None,
    };
    list_page(&sim, &p, "/v1/prices", |st| {
        Ok(st
            .prices
            .iter()
            .rev()
            .filter(|x| active.is_none_or(|a| x.active == a))
            .filter(|x| {
                p.str("currency")
                    .is_none_or(|c| x.currency == c.to_lowercase())
            })
            .filter(|x| p.str("product").is_none_or(|pr| x.product == pr))
            .filter(|x| match p.str("type") {
                Some("recurring") => x.recurring.is_some(),
                Some("one_time") => x.recurring.is_none(),
                _ => true,
            })
            .filter(|x| {
                lookup_keys.is_empty()
                    || x.lookup_key
                        .as_ref()
                        .is_some_and(|k| lookup_keys.contains(k))
            })
            .filter(|x| {
                interval
                    .as_ref()
                    .is_none_or(|i| x.recurring.as_ref().is_some_and(|r| &r.interval == i))
            })
            .map(render::price)
            .collect())
    })
}
