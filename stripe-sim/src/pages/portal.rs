//! Hosted Billing Portal (`{base}/portal/{bps_id}`) and hosted invoice pages.
//! Every action is a form POST answered with 303 back to the portal (post/redirect/get).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use super::{esc, form, money, not_found, page, per, see_other};
use crate::Shared;
use crate::billing::checkout::set_default_card;
use crate::billing::payments::{add_card, retry_invoice};
use crate::billing::subscriptions::{change_price, set_cancel_at_period_end};
use crate::http::ApiError;
use crate::state::{
    CardBehavior, InvoiceStatus, PortalSession, State as SimState, SubStatus, Subscription,
};
use crate::time::date;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/portal/{id}", get(show))
        .route("/portal/{id}/switch", post(switch))
        .route("/portal/{id}/cancel", post(cancel))
        .route("/portal/{id}/resume", post(resume))
        .route("/portal/{id}/card", post(card))
        .route("/invoice/{id}", get(invoice))
}

fn sub_card(st: &SimState, ps: &PortalSession, s: &Subscription) -> String {
    let item = s.items.first();
    let price = item.and_then(|i| st.price(&i.price));
    let name = price
        .and_then(|p| st.product(&p.product))
        .map_or("Plan", |p| p.name.as_str());
    let amount = price
        .map(|p| money(p.unit_amount * item.map_or(1, |i| i.quantity), &p.currency))
        .unwrap_or_default();
    let cadence = price
        .and_then(|p| p.recurring.as_ref())
        .map(|r| per(&r.interval, r.interval_count))
        .unwrap_or_default();
    let when = if s.cancel_at_period_end {
        format!("Cancels on {}", date(s.current_period_end))
    } else if s.status == SubStatus::Trialing {
        format!(
            "Trial ends on {}",
            date(s.trial_end.unwrap_or(s.current_period_end))
        )
    } else {
        format!("Renews on {}", date(s.current_period_end))
    };
    let sid = esc(&s.id);
    let pid = esc(&ps.id);
    let toggle = if s.cancel_at_period_end {
        format!(
            "<form method=\"post\" action=\"/portal/{pid}/resume\"><input type=\"hidden\" name=\"subscription\" value=\"{sid}\"><button class=\"small\" type=\"submit\">Resume subscription</button></form>"
        )
    } else {
        format!(
            "<form method=\"post\" action=\"/portal/{pid}/cancel\"><input type=\"hidden\" name=\"subscription\" value=\"{sid}\"><button class=\"small danger\" type=\"submit\">Cancel subscription</button></form>"
        )
    };
    let current = price.map(|p| p.id.clone()).unwrap_or_default();
    let currency = price.map(|p| p.currency.clone()).unwrap_or_default();
    let mut options = String::new();
    for p in st
        .prices
        .iter()
        .filter(|p| p.active && p.recurring.is_some() && p.currency == currency && p.id != current)
    {
        let pname = st.product(&p.product).map_or("Plan", |x| x.name.as_str());
        let rec = p
            .recurring
            .as_ref()
            .map(|r| per(&r.interval, r.interval_count))
            .unwrap_or_default();
        options.push_str(&format!(
            "<form method=\"post\" action=\"/portal/{pid}/switch\"><input type=\"hidden\" name=\"subscription\" value=\"{sid}\"><input type=\"hidden\" name=\"price\" value=\"{}\"><div class=\"line\"><span>{} — {} {}</span><button class=\"small secondary\" type=\"submit\">Switch</button></div></form>",
            esc(&p.id),
            esc(pname),
            esc(&money(p.unit_amount, &p.currency)),
            esc(&rec)
        ));
    }
    let switch = if s.status.is_live() && !options.is_empty() {
        format!("<h2>Switch plan</h2><p class=\"muted\">Changes are prorated.</p>{options}")
    } else {
        String::new()
    };
    format!(
        "<div class=\"card\"><h1>{} <span class=\"badge {}\">{}</span></h1><div class=\"amount\">{} <small>{}</small></div><p class=\"muted\">{}</p>{toggle}{switch}</div>",
        esc(name),
        s.status.as_str(),
        s.status.as_str().replace('_', " "),
        esc(&amount),
        esc(&cadence),
        esc(&when)
    )
}

fn render(st: &SimState, ps: &PortalSession) -> Response {
    let customer = st.customer(&ps.customer);
    let email = customer.and_then(|c| c.email.clone()).unwrap_or_default();
    let back = ps
        .return_url
        .as_ref()
        .map(|u| {
            format!(
                "<a class=\"back\" href=\"{}\">← Return to the app</a>",
                esc(u)
            )
        })
        .unwrap_or_default();
    let flash = ps
        .flash
        .as_ref()
        .map(|f| format!("<div class=\"flash\" role=\"status\">{}</div>", esc(f)))
        .unwrap_or_default();
    let subs: String = st
        .subscriptions
        .iter()
        .rev()
        .filter(|s| s.customer == ps.customer && s.status.is_live())
        .map(|s| sub_card(st, ps, s))
        .collect();
    let subs = if subs.is_empty() {
        "<div class=\"card\"><p class=\"muted\">No active subscriptions.</p></div>".to_owned()
    } else {
        subs
    };
    let pm = customer
        .and_then(|c| c.default_payment_method.as_deref())
        .and_then(|id| st.payment_method(id))
        .map(|p| format!("{} •••• {}", p.brand, p.last4))
        .unwrap_or_else(|| "No card on file".to_owned());
    let invoices: String = st
        .invoices
        .iter()
        .rev()
        .filter(|i| i.customer == ps.customer && i.status != InvoiceStatus::Draft)
        .map(|i| {
            format!(
                "<tr><td>{}</td><td><a href=\"/invoice/{}\">{}</a></td><td>{}</td><td><span class=\"badge {}\">{}</span></td></tr>",
                esc(&date(i.created)),
                esc(&i.id),
                esc(i.number.as_deref().unwrap_or(&i.id)),
                esc(&money(i.total(), &i.currency)),
                i.status.as_str(),
                i.status.as_str()
            )
        })
        .collect();
    let body = format!(
        r#"<div class="wrap single">{back}<h1>Billing</h1><p class="muted">{email}</p>{flash}{subs}
<div class="card"><h2>Payment method</h2><p>{pm}</p><form method="post" action="/portal/{id}/card"><label for="card_number">New card number</label><input type="text" id="card_number" name="card_number" placeholder="4242 4242 4242 4242" required><button class="small" type="submit">Update card</button></form></div>
<div class="card"><h2>Invoice history</h2><table><thead><tr><th>Date</th><th>Invoice</th><th>Amount</th><th>Status</th></tr></thead><tbody>{invoices}</tbody></table></div></div>"#,
        email = esc(&email),
        pm = esc(&pm),
        id = esc(&ps.id),
    );
    page(StatusCode::OK, "Billing", &body)
}

async fn show(State(sim): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    sim.read(|st| match st.portal_session(&id) {
        Some(ps) => render(st, ps),
        None => not_found("billing portal session"),
    })
}

/// Runs a portal action for a subscription of the session's customer and redirects back
/// with a flash message (or the error).
fn act(
    sim: &Shared,
    id: &str,
    body: &[u8],
    f: impl FnOnce(
        &mut SimState,
        &str,
        &std::collections::HashMap<String, String>,
    ) -> Result<String, ApiError>,
) -> Response {
    let fields = form(body);
    let done = sim.with(|st| {
        let customer = st.portal_session(id).map(|p| p.customer.clone())?;
        let sub = fields.get("subscription").cloned().unwrap_or_default();
        let result =
            if !sub.is_empty() && st.subscription(&sub).is_none_or(|s| s.customer != customer) {
                Err(ApiError::missing_resource(
                    "subscription",
                    &sub,
                    "subscription",
                ))
            } else {
                f(st, &customer, &fields)
            };
        let msg = result.unwrap_or_else(|e| format!("Could not complete that: {}", e.message));
        if let Some(ps) = st.portal_sessions.iter_mut().find(|p| p.id == id) {
            ps.flash = Some(msg);
        }
        Some(())
    });
    match done {
        Some(()) => see_other(&format!("/portal/{id}")),
        None => not_found("billing portal session"),
    }
}

async fn switch(State(sim): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    act(&sim, &id, &body, |st, _, f| {
        let sub = f
            .get("subscription")
            .map(String::as_str)
            .unwrap_or_default();
        let price = f.get("price").map(String::as_str).unwrap_or_default();
        change_price(st, sub, None, price, None, "create_prorations")?;
        let name = st
            .price(price)
            .and_then(|p| st.product(&p.product))
            .map_or("the new plan", |p| p.name.as_str());
        Ok(format!("Switched to {name}."))
    })
}

async fn cancel(State(sim): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    act(&sim, &id, &body, |st, _, f| {
        let sub = f
            .get("subscription")
            .map(String::as_str)
            .unwrap_or_default();
        let end = st
            .subscription(sub)
            .map(|s| s.current_period_end)
            .ok_or_else(|| ApiError::missing("subscription"))?;
        set_cancel_at_period_end(st, sub, true);
        Ok(format!("Your subscription will end on {}.", date(end)))
    })
}

async fn resume(State(sim): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    act(&sim, &id, &body, |st, _, f| {
        let sub = f
            .get("subscription")
            .map(String::as_str)
            .unwrap_or_default();
        if st
            .subscription(sub)
            .is_none_or(|s| s.status == SubStatus::Canceled)
        {
            return Err(ApiError::missing("subscription"));
        }
        set_cancel_at_period_end(st, sub, false);
        Ok("Your subscription will continue.".to_owned())
    })
}

/// Saves a new default card; declining test cards are refused like a failed SetupIntent.
/// Past-due invoices are retried with the new card right away, as the real portal does.
async fn card(State(sim): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    act(&sim, &id, &body, |st, customer, f| {
        let number = f.get("card_number").map(String::as_str).unwrap_or_default();
        let pm = add_card(st, number, Some(customer))?;
        match st.payment_method(&pm).map(|p| p.behavior) {
            Some(CardBehavior::Decline) => {
                return Err(ApiError::card(
                    "card_declined",
                    Some("generic_decline"),
                    "Your card was declined.",
                ));
            }
            Some(CardBehavior::InsufficientFunds) => {
                return Err(ApiError::card(
                    "card_declined",
                    Some("insufficient_funds"),
                    "Your card has insufficient funds.",
                ));
            }
            _ => {}
        }
        set_default_card(st, customer, &pm, None);
        let overdue: Vec<String> = st
            .invoices
            .iter()
            .filter(|i| {
                i.customer == customer
                    && i.status == InvoiceStatus::Open
                    && i.next_payment_attempt.is_some()
            })
            .map(|i| i.id.clone())
            .collect();
        for inv in overdue {
            retry_invoice(st, &inv);
        }
        Ok("Your card was updated.".to_owned())
    })
}

async fn invoice(State(sim): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    sim.read(|st| {
        let Some(inv) = st.invoice(&id) else { return not_found("invoice") };
        let lines: String = inv
            .lines
            .iter()
            .map(|l| format!("<div class=\"line\"><span>{}</span><span>{}</span></div>", esc(&l.description), esc(&money(l.amount, &inv.currency))))
            .collect();
        let body = format!(
            "<div class=\"wrap single\"><div class=\"card\"><h1>Invoice {} <span class=\"badge {}\">{}</span></h1><p class=\"muted\">{} · {} – {}</p>{lines}<div class=\"line\"><strong>Total</strong><strong>{}</strong></div><div class=\"line\"><span>Amount paid</span><span>{}</span></div></div></div>",
            esc(inv.number.as_deref().unwrap_or(&inv.id)),
            inv.status.as_str(),
            inv.status.as_str(),
            esc(&date(inv.created)),
            esc(&date(inv.period_start)),
            esc(&date(inv.period_end)),
            esc(&money(inv.total(), &inv.currency)),
            esc(&money(inv.amount_paid, &inv.currency)),
        );
        page(StatusCode::OK, "Invoice", &body)
    })
}
