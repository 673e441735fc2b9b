//! `POST /api/webhooks/stripe`: verified, recorded and applied exactly once.
//!
//! Every event only says "this customer (or product, or price) changed": the handler re-reads the
//! current state from Stripe and writes it, so duplicates and any delivery order end in the state
//! Stripe holds. The event id is recorded in the transaction that writes the effects; a failure
//! answers 5xx and records nothing, so Stripe delivers again.

use crate::billing::ssr::Billing;
use crate::catalog::ssr::{CatalogObject, CatalogStore};
use crate::db::Database;
use crate::error::AppResult;
use crate::shop::ssr::Shop;
use crate::stripe_gateway::{EventSubject, StripeGateway, VerifiedEvent};
use crate::stripe_sync::{SyncOutcome, ledger};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::sync::Arc;
use tracing::Span;

pub const WEBHOOK_PATH: &str = "/api/webhooks/stripe";
/// Stripe's largest events (invoices with many lines) stay well below this.
const WEBHOOK_BODY_LIMIT: usize = 512 * 1024;

/// What the webhook route needs: the features it dispatches to.
#[derive(Clone)]
pub struct WebhookState {
    pub billing: Billing,
    pub shop: Shop,
    pub catalog: Arc<CatalogStore>,
    pub gateway: Arc<StripeGateway>,
    pub db: Database,
    /// True when the API key is a live key: events of the other mode are refused.
    pub livemode: bool,
}

/// The body of a 200 answer, for Stripe's dashboard and our logs: what the sync did, with "not ours"
/// said of the kind of object the event was about.
fn answer<A>(outcome: &SyncOutcome<A>, not_ours: &'static str) -> &'static str {
    match outcome {
        SyncOutcome::Applied(_) => "applied",
        SyncOutcome::Duplicate => "duplicate",
        SyncOutcome::NotOurs => not_ours,
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
            tracing::info!(outcome, "webhook applied");
            (StatusCode::OK, outcome).into_response()
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

/// Dispatches on the event's subject; every branch records the event exactly once.
async fn apply(state: &WebhookState, event: &VerifiedEvent) -> AppResult<&'static str> {
    const UNKNOWN_ORDER: &str = "unknown order";
    match &event.subject {
        EventSubject::Order(tag) => match state.shop.order_of_tag(tag) {
            Some(order_id) => Ok(answer(
                &state.shop.sync_order(order_id, Some(event)).await?,
                UNKNOWN_ORDER,
            )),
            None => Ok(answer(
                &state.shop.record_foreign_order_event(event).await?,
                UNKNOWN_ORDER,
            )),
        },
        EventSubject::Payment(payment) => {
            let outcome = match state.shop.order_of_payment(payment).await? {
                Some(order_id) => state.shop.sync_order(order_id, Some(event)).await?,
                None => state.shop.record_foreign_order_event(event).await?,
            };
            Ok(answer(&outcome, UNKNOWN_ORDER))
        }
        // `customer.deleted` too: its sync unbinds the customer instead of reading Stripe.
        EventSubject::Customer(customer_id) => Ok(answer(
            &state
                .billing
                .sync_customer(customer_id, Some(event))
                .await?,
            "unknown customer",
        )),
        EventSubject::Product(id) => apply_catalog(state, event, CatalogObject::Product(id)).await,
        EventSubject::Price(id) => apply_catalog(state, event, CatalogObject::Price(id)).await,
        EventSubject::Other => {
            let duplicates = ledger::record_only(&state.db, &[event]).await?;
            Ok(if duplicates.is_empty() {
                "ignored"
            } else {
                "duplicate"
            })
        }
    }
}

async fn apply_catalog(
    state: &WebhookState,
    event: &VerifiedEvent,
    object: CatalogObject<'_>,
) -> AppResult<&'static str> {
    let outcome = state
        .catalog
        .apply_change(&state.db, &state.gateway, event, object)
        .await?;
    Ok(answer(&outcome, "ignored"))
}
