//! Products: create, retrieve, update, list.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use serde_json::Value;

use super::{
    body_params, list_page, list_query, merge_metadata, nullable, one, retrieve_one, update_one,
};
use crate::error::ApiError;
use crate::form::Params;
use crate::http::ApiResult;
use crate::model::{Meta, Product};
use crate::render::catalog as render;
use crate::shared::Shared;
use crate::store::Store;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/products", get(list_products).post(create_product))
        .route("/products/{id}", get(get_product).post(update_product))
}

/// Stores a new product and emits `product.created`; returns its JSON.
pub(super) fn insert_product(store: &mut Store, product: Product) -> Value {
    let id = product.id.clone();
    store.products.push(product);
    let object = store.product(&id).map(render::product).unwrap_or_default();
    store.emit("product.created", object.clone(), None);
    object
}

fn features(params: &Params) -> Result<Option<Vec<String>>, ApiError> {
    if !params.has("marketing_features") {
        return Ok(None);
    }
    params
        .list("marketing_features")?
        .iter()
        .map(|feature| {
            feature.allow(&["name"])?;
            feature.req_str("name").map(str::to_owned)
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

async fn create_product(State(sim): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let params = body_params(&body)?;
    let mut allowed = PRODUCT_COMMON.to_vec();
    allowed.extend(["id", "type", "tax_code", "shippable"]);
    params.allow(&allowed)?;
    let name = params.req_str("name")?.to_owned();
    let marketing_features = features(&params)?.unwrap_or_default();
    let metadata = params.metadata("metadata")?.unwrap_or_default();
    let active = params.bool("active")?.unwrap_or(true);
    let images = params.strings("images")?;
    sim.with(|store| {
        let id = match params.str("id") {
            Some(custom) if store.product(custom).is_some() => {
                return Err(ApiError::invalid(
                    "id",
                    format!("Product already exists: {custom}"),
                ));
            }
            Some(custom) if !custom.is_empty() => custom.to_owned(),
            _ => store.id("prod"),
        };
        let product = Product {
            description: params.str("description").map(str::to_owned),
            active,
            metadata,
            marketing_features,
            images,
            url: params.str("url").map(str::to_owned),
            unit_label: params.str("unit_label").map(str::to_owned),
            statement_descriptor: params.str("statement_descriptor").map(str::to_owned),
            tax_code: params.str("tax_code").map(str::to_owned),
            ..Product::new(id, name, store.now)
        };
        let object = insert_product(store, product);
        one(store, &params, object)
    })
}

async fn get_product(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &query, "product", &id, "id", |store| {
        store.product(&id).map(render::product)
    })
}

/// The optional changes of an update, parsed before anything is touched.
struct ProductUpdate {
    features: Option<Vec<String>>,
    metadata: Option<Meta>,
    active: Option<bool>,
    images: Option<Vec<String>>,
}

impl ProductUpdate {
    fn parse(params: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            features: features(params)?,
            metadata: params.metadata("metadata")?,
            active: params.bool("active")?,
            images: if params.has("images") {
                Some(params.strings("images")?)
            } else {
                None
            },
        })
    }

    fn apply(self, params: &Params, product: &mut Product) {
        if let Some(name) = params.str("name").filter(|s| !s.is_empty()) {
            product.name = name.to_owned();
        }
        if let Some(description) = nullable(params, "description") {
            product.description = description;
        }
        if let Some(price) = nullable(params, "default_price") {
            product.default_price = price;
        }
        if let Some(url) = nullable(params, "url") {
            product.url = url;
        }
        if let Some(label) = nullable(params, "unit_label") {
            product.unit_label = label;
        }
        if let Some(code) = nullable(params, "tax_code") {
            product.tax_code = code;
        }
        if let Some(descriptor) = nullable(params, "statement_descriptor") {
            product.statement_descriptor = descriptor;
        }
        if let Some(active) = self.active {
            product.active = active;
        }
        if let Some(features) = self.features {
            product.marketing_features = features;
        }
        if let Some(images) = self.images {
            product.images = images;
        }
        merge_metadata(&mut product.metadata, self.metadata);
    }
}

async fn update_product(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let params = body_params(&body)?;
    let mut allowed = PRODUCT_COMMON.to_vec();
    allowed.extend(["default_price", "tax_code", "shippable"]);
    params.allow(&allowed)?;
    let update = ProductUpdate::parse(&params)?;
    let current = |store: &Store| store.product(&id).map(render::product);
    update_one(&sim, &params, "product", &id, current, |store| {
        if let Some(price) = params.str("default_price").filter(|s| !s.is_empty())
            && store.price(price).is_none_or(|p| p.product != id)
        {
            return Err(ApiError::missing_resource("price", price, "default_price"));
        }
        let now = store.now;
        let Some(product) = store.products.iter_mut().find(|x| x.id == id) else {
            return Err(ApiError::missing_resource("product", &id, "id"));
        };
        update.apply(&params, product);
        product.updated = now;
        Ok(())
    })
}

async fn list_products(State(sim): State<Arc<Shared>>, query: RawQuery) -> ApiResult {
    let params = list_query(
        &query,
        &["active", "ids", "shippable", "url", "created", "type"],
    )?;
    let active = params.bool("active")?;
    let ids = params.strings("ids")?;
    list_page(&sim, &params, "/v1/products", |store| {
        Ok(store
            .products
            .iter()
            .rev()
            .filter(|x| active.is_none_or(|a| x.active == a))
            .filter(|x| ids.is_empty() || ids.contains(&x.id))
            .map(render::product)
            .collect())
    })
}
