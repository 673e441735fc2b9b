//! `GET /v1/account`: the account the API key belongs to. Every `sk_test_…` key of a sim
//! belongs to the same one (the sim keeps one set of objects), so the answer only depends on
//! how the sim was started (`SimConfig::account_id`).

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::get;

use super::{one, query_params};
use crate::http::ApiResult;
use crate::render::account as render;
use crate::shared::Shared;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/account", get(retrieve))
}

async fn retrieve(State(sim): State<Arc<Shared>>, query: RawQuery) -> ApiResult {
    let params = query_params(&query)?;
    params.allow(&["expand"])?;
    sim.read(|store| one(store, &params, render::account(&store.account)))
}
