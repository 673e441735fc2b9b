//! Hosted receipt page (`{base}/receipts/{ch_id}`, the charge's `receipt_url`): amount, what
//! was bought, payment method and refunds.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::{esc, money, not_found, page};
use crate::model::{Charge, MethodType};
use crate::shared::Shared;
use crate::store::Store;
use crate::time::date;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/receipts/{id}", get(show))
}

fn line(left: &str, right: &str) -> String {
    format!(
        "<div class=\"line\"><span>{}</span><span>{}</span></div>",
        esc(left),
        esc(right)
    )
}

fn method(c: &Charge) -> String {
    match c.method_type {
        MethodType::Card => format!("{} •••• {}", c.brand.to_uppercase(), c.last4),
        MethodType::UsBankAccount => format!("{} •••• {}", c.brand, c.last4),
    }
}

fn render(store: &Store, c: &Charge) -> Response {
    let amount = |minor: i64| money(minor, &c.currency);
    let items: String = c
        .lines
        .iter()
        .map(|l| {
            line(
                &format!("{} × {}", l.description, l.quantity),
                &amount(l.amount),
            )
        })
        .collect();
    let refunds: String = c
        .refunds
        .iter()
        .filter_map(|r| store.refund(r))
        .map(|r| {
            line(
                &format!("Refund on {}", date(r.created)),
                &format!("−{}", amount(r.amount)),
            )
        })
        .collect();
    let refunded = if c.amount_refunded > 0 {
        format!(
            "<h2>Refunds</h2>{refunds}<div class=\"line\"><strong>Refunded</strong><strong>{}</strong></div>",
            esc(&amount(c.amount_refunded))
        )
    } else {
        String::new()
    };
    let body = format!(
        concat!(
            "<div class=\"wrap single\"><div class=\"card\">",
            "<h1>Receipt <span class=\"badge {status}\">{status}</span></h1>",
            "<p class=\"muted\">{account} · {created}</p>",
            "<div class=\"amount\">{total}</div>{items}",
            "<div class=\"line\"><strong>Amount paid</strong><strong>{total}</strong></div>",
            "{method}{email}{refunded}",
            "<p class=\"hint\">Charge <code>{id}</code></p></div></div>",
        ),
        status = c.status.as_str(),
        account = esc(crate::render::account::DISPLAY_NAME),
        created = esc(&date(c.created)),
        total = esc(&amount(c.amount)),
        items = items,
        method = line("Payment method", &method(c)),
        email = c
            .billing_email
            .as_deref()
            .map(|e| line("Receipt sent to", e))
            .unwrap_or_default(),
        refunded = refunded,
        id = esc(&c.id),
    );
    page(StatusCode::OK, "Receipt", &body)
}

async fn show(State(sim): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    sim.read(|store| match store.charge(&id) {
        Some(c) => render(store, c),
        None => not_found("receipt"),
    })
}
