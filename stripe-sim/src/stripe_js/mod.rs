//! A subset of Stripe.js served at `{base}/v3/`, so the app's page can load the sim's script
//! exactly where it loads `https://js.stripe.com/v3/`: `Stripe(pk)`, the card Element (an
//! iframe on the sim's origin, so the card number never enters the page), `confirmCardPayment`
//! with the 3-D Secure modal, `retrievePaymentIntent`, `createPaymentMethod`. The script talks
//! to `/v1` with the publishable key as the `key` parameter, as Stripe.js does (see `auth`).
//!
//! The JavaScript and HTML live next to this file and are compiled in; nothing is fetched
//! from elsewhere, and the pages carry no `X-Frame-Options`/`frame-ancestors` so the app
//! can frame them.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::shared::Shared;

/// The script: the files share one closure, so only `window.Stripe` is global.
const SCRIPT: &str = concat!(
    "/* stripe-sim: a Stripe.js v3 subset for offline tests (not Stripe's code). */\n",
    "(function () {\n\"use strict\";\n",
    include_str!("stripe.js"),
    include_str!("elements.js"),
    include_str!("confirm.js"),
    "})();\n"
);

/// The card Element's frame: markup and style, then its script inline (no other requests).
const CARD_FRAME: &str = concat!(
    include_str!("card.html"),
    "<script>\n",
    include_str!("card.js"),
    "</script>\n</body>\n</html>\n"
);

/// Where the hosted 3-D Secure page sends the buyer back to when Stripe.js confirmed.
const AUTHORIZE_COMPLETE: &str = include_str!("complete.html");

/// Stands for the sim's base URL in [`SCRIPT`], for the rare page where the script cannot
/// tell its own address (`document.currentScript` is unset).
const BASE_PLACEHOLDER: &str = "__STRIPE_SIM_BASE__";

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v3", get(script))
        .route("/v3/", get(script))
        .route("/v3/elements/card", get(card_frame))
        .route("/v3/authorize-complete", get(authorize_complete))
}

/// A compiled-in asset, revalidated on every load so a rebuilt sim is picked up at once.
fn asset(content_type: &'static str, body: String) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn script(State(sim): State<Arc<Shared>>) -> Response {
    let base = sim.read(|store| store.base_url.clone());
    asset(
        "application/javascript; charset=utf-8",
        SCRIPT.replace(BASE_PLACEHOLDER, &base),
    )
}

async fn card_frame() -> Response {
    asset("text/html; charset=utf-8", CARD_FRAME.to_owned())
}

async fn authorize_complete() -> Response {
    asset("text/html; charset=utf-8", AUTHORIZE_COMPLETE.to_owned())
}
