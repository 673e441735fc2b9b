//! Billing Portal sessions (create only, like Stripe).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;

use super::{body_params, one};
use crate::error::ApiError;
use crate::http::ApiResult;
use crate::model::PortalSession;
use crate::render::checkout as render;
use crate::shared::Shared;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/billing_portal/sessions", post(create_portal))
}

async fn create_portal(State(sim): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&[
        "customer",
        "return_url",
        "configuration",
        "locale",
        "on_behalf_of",
        "expand",
    ])?;
    let customer = params.req_str("customer")?.to_owned();
    sim.with(|store| {
        store
            .customer(&customer)
            .ok_or_else(|| ApiError::missing_resource("customer", &customer, "customer"))?;
        let id = store.id("bps");
        store.portal_sessions.push(PortalSession {
            id: id.clone(),
            customer,
            return_url: params.str("return_url").map(str::to_owned),
            created: store.now,
            locale: params.str("locale").map(str::to_owned),
            flash: None,
        });
        let object = store
            .portal_session(&id)
            .map(|s| render::portal_session(store, s))
            .unwrap_or_default();
        one(store, &params, object)
    })
}
