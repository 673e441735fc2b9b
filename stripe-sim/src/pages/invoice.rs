//! Hosted invoice page (`{base}/invoice/{in_id}`, the invoice's `hosted_invoice_url`).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::{esc, money, not_found, page};
use crate::model::Invoice;
use crate::shared::Shared;
use crate::time::date;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/invoice/{id}", get(show))
}

fn render(invoice: &Invoice) -> Response {
    let amount = |minor: i64| esc(&money(minor, &invoice.currency));
    let lines: String = invoice
        .lines
        .iter()
        .map(|l| {
            format!(
                "<div class=\"line\"><span>{}</span><span>{}</span></div>",
                esc(&l.description),
                amount(l.amount)
            )
        })
        .collect();
    let body = format!(
        concat!(
            "<div class=\"wrap single\"><div class=\"card\">",
            "<h1>Invoice {number} <span class=\"badge {status}\">{status}</span></h1>",
            "<p class=\"muted\">{created} · {start} – {end}</p>{lines}",
            "<div class=\"line\"><strong>Total</strong><strong>{total}</strong></div>",
            "<div class=\"line\"><span>Amount paid</span><span>{paid}</span></div>",
            "</div></div>",
        ),
        number = esc(invoice.number.as_deref().unwrap_or(&invoice.id)),
        status = invoice.status.as_str(),
        created = esc(&date(invoice.created)),
        start = esc(&date(invoice.period_start)),
        end = esc(&date(invoice.period_end)),
        lines = lines,
        total = amount(invoice.total()),
        paid = amount(invoice.amount_paid),
    );
    page(StatusCode::OK, "Invoice", &body)
}

async fn show(State(sim): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    sim.read(|store| match store.invoice(&id) {
        Some(invoice) => render(invoice),
        None => not_found("invoice"),
    })
}
