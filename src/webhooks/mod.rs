//! `POST /api/webhooks/stripe`: verified, recorded and applied exactly once.
//!
//! Every event only says "this customer (or product, or price) changed": the handler re-reads the
//! current state from Stripe and writes it, so duplicates and any delivery order end in the state
//! Stripe holds. The event id is recorded in the transaction that writes the effects; a failure
//! answers 5xx and records nothing, so Stripe delivers again.

use crate::billing::ssr::events::record_event;
use crate::billing::ssr::{Billing, SyncOutcome};
use crate::catalog::ssr::{
    CatalogStore, Existing, MAX_CATALOG_WRITE_ATTEMPTS, catalog_generation,
    claim_catalog_generation, mark_price_inactive, mark_product_inactive, product_exists,
    upsert_price, upsert_product,
};
use crate::db::Database;
use crate::domain::{PriceId, ProductId};
use crate::error::{AppError, AppResult};
use crate::shop::ssr::{OrderSync, Shop};
use crate::stripe_gateway::{EventSubject, StripeGateway, VerifiedEvent};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::sync::Arc;
use tokio::sync::Mutex;
use tracing::Span;

pub const WEBHOOK_PATH: &str = "/api/webhooks/stripe";
/// Stripe's largest events (invoices with many lines) stay well below this.
const WEBHOOK_BODY_LIMIT: usize = 512 * 1024;

/// What the webhook route needs.
#[derive(Clone)]
pub struct WebhookState {
    pub billing: Billing,
    pub shop: Shop,
    pub catalog: Arc<CatalogStore>,
    pub gateway: Arc<StripeGateway>,
    pub db: Database,
    /// True when the API key is a live key: events of the other mode are refused.
    pub livemode: bool,
    /// Serialises catalog changes within this process.
    pub catalog_changes: Arc<Mutex<()>>,
}

/// The body of a 200 answer, for Stripe's dashboard and our logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WebhookOutcome {
    Applied,
    Duplicate,
    UnknownCustomer,
    UnknownOrder,
    Ignored,
}

impl WebhookOutcome {
    fn as_str(self) -> &'static str {
        match self {
            WebhookOutcome::Applied => "applied",
            WebhookOutcome::Duplicate => "duplicate",
            WebhookOutcome::UnknownCustomer => "unknown customer",
            WebhookOutcome::UnknownOrder => "unknown order",
            WebhookOutcome::Ignored => "ignored",
        }
    }
}

pub fn router<S: Clone + Send + Sync + 'static>(state: WebhookState) -> Router<S> {
    Router::new()
        .route(WEBHOOK_PATH, post(receive))
        .layer(DefaultBodyLimit::max(WEBHOOK_BODY_LIMIT))
        .with_state(state)
}

#[tracing::instrument(name = "webhook", skip_all, fields(event_id, event_type))]
async fn receive(State(state): State<WebhookState>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(payload) = std::str::from_utf8(&body) else {
        return (StatusCode::BAD_REQUEST, "payload is not UTF-8").into_response();
    };
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let event = match state.gateway.verify_event(payload, signature) {
        Ok(event) => event,
        Err(rejection) => {
            tracing::warn!(%rejection, "webhook refused");
            return (StatusCode::BAD_REQUEST, rejection.to_string()).into_response();
        }
    };
    Span::current()
        .record("event_id", event.id.as_str())
        .record("event_type", event.event_type.as_str());
    if event.livemode != state.livemode {
        tracing::error!(
            livemode = event.livemode,
            "webhook refused: livemode does not match the API key"
        );
        return (
            StatusCode::BAD_REQUEST,
            "livemode does not match this endpoint's key",
        )
            .into_response();
    }
    match apply(&state, &event).await {
        Ok(outcome) => {
            tracing::info!(outcome = outcome.as_str(), "webhook applied");
            (StatusCode::OK, outcome.as_str()).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "webhook failed; Stripe will retry");
            // Whatever went wrong, Stripe must deliver again: never answer 4xx here.
            let status = if error.status().is_server_error() {
                error.status()
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            (status, error.public_message()).into_response()
        }
    }
}

async fn apply(state: &WebhookState, event: &VerifiedEvent) -> AppResult<WebhookOutcome> {
    match &event.subject {
        EventSubject::Order(tag) => {
            let order = state.shop.order_of_tag(tag);
            apply_order_change(state, event, order).await
        }
        EventSubject::Payment(payment_intent_id) => {
            let order = state.shop.order_of_payment(payment_intent_id).await?;
            apply_order_change(state, event, order).await
        }
        EventSubject::Customer(customer_id) => Ok(
            // `customer.deleted` too: its sync unbinds the customer instead of reading Stripe.
            match state
                .billing
                .sync_customer(customer_id, Some(event))
                .await?
            {
                SyncOutcome::Applied { .. } => WebhookOutcome::Applied,
                SyncOutcome::Duplicate => WebhookOutcome::Duplicate,
                SyncOutcome::UnknownCustomer => WebhookOutcome::UnknownCustomer,
            },
        ),
        EventSubject::Product(id) => {
            apply_catalog_change(state, event, CatalogObject::Product(id)).await
        }
        EventSubject::Price(id) => {
            apply_catalog_change(state, event, CatalogObject::Price(id)).await
        }
        EventSubject::Other => {
            let mut tx = state.db.pool.begin().await?;
            let fresh = record_event(&mut tx, event).await?;
            tx.commit().await?;
            Ok(if fresh {
                WebhookOutcome::Ignored
            } else {
                WebhookOutcome::Duplicate
            })
        }
    }
}

/// A shop order's Checkout Session, PaymentIntent or charge changed: `sync_order` reads it from
/// Stripe. Another system's order (or none) is recorded and answered 200.
async fn apply_order_change(
    state: &WebhookState,
    event: &VerifiedEvent,
    order: Option<crate::domain::OrderId>,
) -> AppResult<WebhookOutcome> {
    let outcome = match order {
        Some(order_id) => state.shop.sync_order(order_id, Some(event)).await?,
        None => state.shop.sync_order_unknown(event).await?,
    };
    Ok(match outcome {
        OrderSync::Applied => WebhookOutcome::Applied,
        OrderSync::Duplicate => WebhookOutcome::Duplicate,
        OrderSync::UnknownOrder => WebhookOutcome::UnknownOrder,
    })
}

#[derive(Clone, Copy)]
enum CatalogObject<'a> {
    Product(&'a ProductId),
    Price(&'a PriceId),
}

/// Stripe's current version of a changed catalog object.
#[derive(Default)]
struct CatalogChange {
    product: Option<crate::stripe_gateway::ProductRecord>,
    price: Option<crate::stripe_gateway::PriceRecord>,
    /// Stripe no longer has this product (deleted).
    gone_product: Option<ProductId>,
    /// Stripe no longer has this price (deleted).
    gone_price: Option<PriceId>,
}

/// Re-reads the product or price from Stripe and writes it. A price can arrive before its product:
/// prices have no foreign key, and an unknown product is fetched along with the price. A product or
/// price Stripe no longer has (deleted) is kept but marked inactive, so old subscriptions still name it.
#[tracing::instrument(skip_all)]
async fn apply_catalog_change(
    state: &WebhookState,
    event: &VerifiedEvent,
    object: CatalogObject<'_>,
) -> AppResult<WebhookOutcome> {
    let _guard = state.catalog_changes.lock().await;
    let mut generation = catalog_generation(&state.db).await?;
    let mut attempts = 0;
    let (change, mut tx) = loop {
        attempts += 1;
        let change = read_catalog_change(state, object).await?;
        let mut tx = state.db.pool.begin().await?;
        if !record_event(&mut tx, event).await? {
            tx.rollback().await?;
            return Ok(WebhookOutcome::Duplicate);
        }
        // Another instance wrote a newer read of the catalog meanwhile: read again (L5).
        match claim_catalog_generation(&mut tx, generation).await? {
            None => break (change, tx),
            Some(_) if attempts >= MAX_CATALOG_WRITE_ATTEMPTS => {
                return Err(AppError::Busy {
                    retry_after_secs: 5,
                });
            }
            Some(current) => {
                tx.rollback().await?;
                generation = current;
            }
        }
    };
    if let Some(product) = &change.product {
        upsert_product(&mut tx, product, Existing::Overwrite).await?;
    }
    if let Some(price) = &change.price {
        upsert_price(&mut tx, price, Existing::Overwrite).await?;
    }
    if let Some(id) = &change.gone_product {
        mark_product_inactive(&mut tx, id).await?;
    }
    if let Some(id) = &change.gone_price {
        mark_price_inactive(&mut tx, id).await?;
    }
    tx.commit().await?;
    state.catalog.reload(&state.db).await?;
    Ok(WebhookOutcome::Applied)
}

async fn read_catalog_change(
    state: &WebhookState,
    object: CatalogObject<'_>,
) -> AppResult<CatalogChange> {
    match object {
        CatalogObject::Product(id) => match state.gateway.product(id).await {
            Ok(product) => Ok(CatalogChange {
                product: Some(product),
                ..Default::default()
            }),
            Err(e) if e.is_not_found() => Ok(CatalogChange {
                gone_product: Some(id.clone()),
                ..Default::default()
            }),
            Err(e) => Err(AppError::from(e)),
        },
        CatalogObject::Price(id) => {
            let price = match state.gateway.price(id).await {
                Ok(price) => price,
                Err(e) if e.is_not_found() => {
                    return Ok(CatalogChange {
                        gone_price: Some(id.clone()),
                        ..Default::default()
                    });
                }
                Err(e) => return Err(AppError::from(e)),
            };
            let product = if product_exists(&state.db, &price.product_id).await? {
                None
            } else {
                Some(state.gateway.product(&price.product_id).await?)
            };
            Ok(CatalogChange {
                product,
                price: Some(price),
                ..Default::default()
            })
        }
    }
}
