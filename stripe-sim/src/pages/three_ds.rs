//! The hosted 3-D Secure challenge of a PaymentIntent confirmed with a card that needs it
//! (`next_action.redirect_to_url.url`): "Complete" or "Fail" authentication, then back to the
//! `return_url` (with `payment_intent`, `payment_intent_client_secret` and `redirect_status`,
//! as Stripe appends them) or a "you may close this window" page.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::{esc, form, money, not_found, page, see_other};
use crate::billing::confirm::authenticate;
use crate::model::{IntentStatus, PaymentIntent};
use crate::shared::Shared;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/3ds/{id}", get(show).post(submit))
}

fn message(title: &str, text: &str, status: StatusCode) -> Response {
    page(
        status,
        title,
        &format!(
            "<div class=\"wrap single\"><div class=\"card\"><h1>{}</h1><p class=\"muted\">{}</p></div></div>",
            esc(title),
            esc(text)
        ),
    )
}

fn challenge(pi: &PaymentIntent) -> Response {
    let secret = esc(&pi.client_secret);
    page(
        StatusCode::OK,
        "Authenticate payment",
        &format!(
            r#"<div class="wrap single"><div class="card"><h1>3D Secure authentication</h1>
<p class="muted">Your bank asks you to confirm this payment of <strong>{amount}</strong>. This is a test page: choose the outcome.</p>
<form method="post" action="/3ds/{id}"><input type="hidden" name="client_secret" value="{secret}"><input type="hidden" name="action" value="complete"><button type="submit">Complete authentication</button></form>
<form method="post" action="/3ds/{id}"><input type="hidden" name="client_secret" value="{secret}"><input type="hidden" name="action" value="fail"><button type="submit" class="secondary">Fail authentication</button></form></div></div>"#,
            amount = esc(&money(pi.amount, &pi.currency)),
            id = esc(&pi.id),
        ),
    )
}

/// Why a challenge link was refused.
enum Refused {
    NoSuchIntent,
    WrongSecret,
}

impl Refused {
    fn page(self) -> Response {
        match self {
            Self::NoSuchIntent => not_found("payment"),
            Self::WrongSecret => message(
                "Invalid link",
                "This authentication link is not valid for this payment.",
                StatusCode::BAD_REQUEST,
            ),
        }
    }
}

/// The intent, if `secret` is its client secret (the page URL carries it like Stripe's).
fn with_secret<'a>(
    pi: Option<&'a PaymentIntent>,
    secret: Option<&str>,
) -> Result<&'a PaymentIntent, Refused> {
    match pi {
        None => Err(Refused::NoSuchIntent),
        Some(pi) if secret == Some(pi.client_secret.as_str()) => Ok(pi),
        Some(_) => Err(Refused::WrongSecret),
    }
}

async fn show(State(sim): State<Arc<Shared>>, Path(id): Path<String>, query: RawQuery) -> Response {
    let params: std::collections::HashMap<String, String> =
        form(query.0.as_deref().unwrap_or("").as_bytes());
    let secret = params.get("client_secret").map(String::as_str);
    sim.read(
        |store| match with_secret(store.payment_intent(&id), secret) {
            Err(refused) => refused.page(),
            Ok(pi) if pi.status == IntentStatus::RequiresAction => challenge(pi),
            Ok(_) => message(
                "Nothing to authenticate",
                "This payment does not wait for authentication. You may close this window.",
                StatusCode::OK,
            ),
        },
    )
}

/// `return_url` with Stripe's redirect parameters appended.
fn return_to(url: &str, pi: &PaymentIntent, succeeded: bool) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("payment_intent", &pi.id)
        .append_pair("payment_intent_client_secret", &pi.client_secret)
        .append_pair(
            "redirect_status",
            if succeeded { "succeeded" } else { "failed" },
        )
        .finish();
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}{query}")
}

async fn submit(State(sim): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    let fields = form(&body);
    let complete = match fields.get("action").map(String::as_str) {
        Some("complete") => true,
        Some("fail") => false,
        _ => {
            return message(
                "Choose an outcome",
                "Missing action.",
                StatusCode::BAD_REQUEST,
            );
        }
    };
    let secret = fields.get("client_secret").map(String::as_str);
    let return_url = match sim.read(|store| {
        with_secret(store.payment_intent(&id), secret)
            .map(|pi| pi.next_action.as_ref().and_then(|a| a.return_url.clone()))
    }) {
        Ok(url) => url,
        Err(refused) => return refused.page(),
    };
    if let Err(e) = sim.with(|store| authenticate(store, &id, complete)) {
        return message("Authentication not possible", &e.message, e.status);
    }
    sim.read(|store| match (store.payment_intent(&id), return_url) {
        (Some(pi), Some(url)) => see_other(&return_to(&url, pi, complete)),
        _ => message(
            if complete {
                "Authentication complete"
            } else {
                "Authentication failed"
            },
            "You may close this window.",
            StatusCode::OK,
        ),
    })
}
