//! `POST /api/webhooks/stripe`: verified, recorded and applied exactly once.
//!
//! Every event only says "this customer (or product, or price) changed": the handler re-reads the
//! current state from Stripe and writes it, so duplicates and any delivery order end in the state
//! Stripe holds. The event id is recorded in the transaction that writes the effects; a failure
//! answers 5xx and records nothing, so Stripe delivers again.

use crate::billing::ssr::stripe::{EventSubject, VerifiedEvent};
use crate::billing::ssr::{SyncOutcome, record_event, sync_customer};
use crate::catalog::ssr::{upsert_price, upsert_product};
use crate::config::StripeMode;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

pub const WEBHOOK_PATH: &str = "/api/webhooks/stripe";
/// Stripe's largest events (invoices with many lines) stay well below this.
const WEBHOOK_BODY_LIMIT: usize = 512 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(WEBHOOK_PATH, post(receive))
        .layer(DefaultBodyLimit::max(WEBHOOK_BODY_LIMIT))
}

async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
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
    let expected_live = state.config.stripe.mode == StripeMode::Live;
    if event.livemode != expected_live {
        tracing::error!(event_id = %event.id, livemode = event.livemode, "webhook refused: livemode does not match the API key");
        return (
            StatusCode::BAD_REQUEST,
            "livemode does not match this endpoint's key",
        )
            .into_response();
    }
    match apply(&state, &event).await {
        Ok(outcome) => {
            tracing::info!(event_id = %event.id, event_type = %event.event_type, outcome, "webhook applied");
            (StatusCode::OK, outcome).into_response()
        }
        Err(error) => {
            tracing::error!(event_id = %event.id, event_type = %event.event_type, %error, "webhook failed; Stripe will retry");
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

async fn apply(state: &AppState, event: &VerifiedEvent) -> AppResult<&'static str> {
    match &event.subject {
        EventSubject::Customer(customer_id) => Ok(
            match sync_customer(state, customer_id, Some(event)).await? {
                SyncOutcome::Applied { .. } => "applied",
                SyncOutcome::Duplicate => "duplicate",
                SyncOutcome::UnknownCustomer => "unknown customer",
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
            Ok(if fresh { "ignored" } else { "duplicate" })
        }
    }
}

enum CatalogObject<'a> {
    Product(&'a str),
    Price(&'a str),
}

/// Re-reads the product or price from Stripe and writes it. A price can arrive before its product:
/// prices have no foreign key, and an unknown product is fetched along with the price. A product that
/// Stripe no longer has (deleted) is kept but marked inactive, so old subscriptions still name it.
async fn apply_catalog_change(
    state: &AppState,
    event: &VerifiedEvent,
    object: CatalogObject<'_>,
) -> AppResult<&'static str> {
    let _guard = state.customer_locks.lock("catalog").await;
    let mut gone_product = None;
    let (product, price) = match object {
        CatalogObject::Product(id) => match state.gateway.product(id).await {
            Ok(product) => (Some(product), None),
            Err(e) if e.is_not_found() => {
                gone_product = Some(id.to_owned());
                (None, None)
            }
            Err(e) => return Err(AppError::from(e)),
        },
        CatalogObject::Price(id) => {
            let price = state.gateway.price(id).await?;
            let known = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM products WHERE id = $1")
                .bind(&price.product_id)
                .fetch_one(&state.db.pool)
                .await?;
            let product = if known == 0 {
                Some(state.gateway.product(&price.product_id).await?)
            } else {
                None
            };
            (product, Some(price))
        }
    };
    let mut tx = state.db.pool.begin().await?;
    if !record_event(&mut tx, event).await? {
        tx.rollback().await?;
        return Ok("duplicate");
    }
    if let Some(product) = &product {
        upsert_product(&mut tx, product).await?;
    }
    if let Some(price) = &price {
        upsert_price(&mut tx, price).await?;
    }
    if let Some(id) = &gone_product {
        sqlx::query("UPDATE products SET active = 0, updated_at = $2 WHERE id = $1")
            .bind(id)
            .bind(crate::db::now_unix())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    state.catalog.reload(&state.db).await?;
    Ok("applied")
}
