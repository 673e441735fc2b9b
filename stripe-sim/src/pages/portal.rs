//! Hosted Billing Portal (`{base}/portal/{bps_id}`): subscriptions, plan switches,
//! cancellation, the card on file and invoice history. Every action is a form POST answered
//! with 303 back to the portal (post/redirect/get).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use super::{esc, form, money, not_found, page, per, see_other};
use crate::billing::cards::{add_card, decline};
use crate::billing::customers::set_default_card;
use crate::billing::plan_change::change_price;
use crate::billing::subscriptions::{retry_invoice, set_cancel_at_period_end};
use crate::error::ApiError;
use crate::model::{InvoiceStatus, PortalSession, Price, SubStatus, Subscription};
use crate::shared::Shared;
use crate::store::Store;
use crate::time::date;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/portal/{id}", get(show))
        .route("/portal/{id}/switch", post(switch))
        .route("/portal/{id}/cancel", post(cancel))
        .route("/portal/{id}/resume", post(resume))
        .route("/portal/{id}/card", post(card))
}

/// "Renews on …", "Trial ends on …" or "Cancels on …".
fn next_date(s: &Subscription) -> String {
    if s.cancel_at_period_end {
        format!("Cancels on {}", date(s.current_period_end))
    } else if s.status == SubStatus::Trialing {
        format!(
            "Trial ends on {}",
            date(s.trial_end.unwrap_or(s.current_period_end))
        )
    } else {
        format!("Renews on {}", date(s.current_period_end))
    }
}

/// The cancel button, or the resume button once cancellation is scheduled.
fn cancel_toggle(portal: &str, s: &Subscription) -> String {
    let (action, class, label) = if s.cancel_at_period_end {
        ("resume", "small", "Resume subscription")
    } else {
        ("cancel", "small danger", "Cancel subscription")
    };
    format!(
        concat!(
            "<form method=\"post\" action=\"/portal/{portal}/{action}\">",
            "<input type=\"hidden\" name=\"subscription\" value=\"{sub}\">",
            "<button class=\"{class}\" type=\"submit\">{label}</button></form>",
        ),
        portal = portal,
        action = action,
        sub = esc(&s.id),
        class = class,
        label = label,
    )
}

/// One "Switch" form per other active recurring price in the same currency.
fn switch_options(
    store: &Store,
    portal: &str,
    s: &Subscription,
    current: Option<&Price>,
) -> String {
    let current_id = current.map(|p| p.id.as_str()).unwrap_or_default();
    let currency = current.map(|p| p.currency.as_str()).unwrap_or_default();
    let mut options = String::new();
    for p in store.prices.iter().filter(|p| {
        p.active && p.recurring.is_some() && p.currency == currency && p.id != current_id
    }) {
        let name = store
            .product(&p.product)
            .map_or("Plan", |x| x.name.as_str());
        let cadence = p
            .recurring
            .as_ref()
            .map(|r| per(&r.interval, r.interval_count))
            .unwrap_or_default();
        options.push_str(&format!(
            concat!(
                "<form method=\"post\" action=\"/portal/{portal}/switch\">",
                "<input type=\"hidden\" name=\"subscription\" value=\"{sub}\">",
                "<input type=\"hidden\" name=\"price\" value=\"{price}\">",
                "<div class=\"line\"><span>{name} — {amount} {cadence}</span>",
                "<button class=\"small secondary\" type=\"submit\">Switch</button></div></form>",
            ),
            portal = portal,
            sub = esc(&s.id),
            price = esc(&p.id),
            name = esc(name),
            amount = esc(&money(p.unit_amount, &p.currency)),
            cadence = esc(&cadence),
        ));
    }
    options
}

fn sub_card(store: &Store, ps: &PortalSession, s: &Subscription) -> String {
    let item = s.items.first();
    let price = item.and_then(|i| store.price(&i.price));
    let name = price
        .and_then(|p| store.product(&p.product))
        .map_or("Plan", |p| p.name.as_str());
    let amount = price
        .map(|p| money(p.unit_amount * item.map_or(1, |i| i.quantity), &p.currency))
        .unwrap_or_default();
    let cadence = price
        .and_then(|p| p.recurring.as_ref())
        .map(|r| per(&r.interval, r.interval_count))
        .unwrap_or_default();
    let portal = esc(&ps.id);
    let toggle = cancel_toggle(&portal, s);
    let options = switch_options(store, &portal, s, price);
    let switch = if s.status.is_live() && !options.is_empty() {
        format!("<h2>Switch plan</h2><p class=\"muted\">Changes are prorated.</p>{options}")
    } else {
        String::new()
    };
    format!(
        concat!(
            "<div class=\"card\"><h1>{name} <span class=\"badge {status}\">{label}</span></h1>",
            "<div class=\"amount\">{amount} <small>{cadence}</small></div>",
            "<p class=\"muted\">{when}</p>{toggle}{switch}</div>",
        ),
        name = esc(name),
        status = s.status.as_str(),
        label = s.status.as_str().replace('_', " "),
        amount = esc(&amount),
        cadence = esc(&cadence),
        when = esc(&next_date(s)),
        toggle = toggle,
        switch = switch,
    )
}

/// The customer's live subscriptions, newest first.
fn subscription_cards(store: &Store, ps: &PortalSession) -> String {
    let cards: String = store
        .subscriptions
        .iter()
        .rev()
        .filter(|s| s.customer == ps.customer && s.status.is_live())
        .map(|s| sub_card(store, ps, s))
        .collect();
    if cards.is_empty() {
        "<div class=\"card\"><p class=\"muted\">No active subscriptions.</p></div>".to_owned()
    } else {
        cards
    }
}

/// Finalized invoices, newest first, linking to the hosted invoice page.
fn invoice_rows(store: &Store, ps: &PortalSession) -> String {
    store
        .invoices
        .iter()
        .rev()
        .filter(|i| i.customer == ps.customer && i.status != InvoiceStatus::Draft)
        .map(|i| {
            format!(
                concat!(
                    "<tr><td>{}</td><td><a href=\"/invoice/{}\">{}</a></td><td>{}</td>",
                    "<td><span class=\"badge {}\">{}</span></td></tr>",
                ),
                esc(&date(i.created)),
                esc(&i.id),
                esc(i.number.as_deref().unwrap_or(&i.id)),
                esc(&money(i.total(), &i.currency)),
                i.status.as_str(),
                i.status.as_str()
            )
        })
        .collect()
}

fn render(store: &Store, ps: &PortalSession) -> Response {
    let customer = store.customer(&ps.customer);
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
    let card = customer
        .and_then(|c| c.default_payment_method.as_deref())
        .and_then(|id| store.payment_method(id))
        .map(|m| format!("{} •••• {}", m.brand, m.last4))
        .unwrap_or_else(|| "No card on file".to_owned());
    let body = format!(
        r#"<div class="wrap single">{back}<h1>Billing</h1><p class="muted">{email}</p>{flash}{subs}
<div class="card"><h2>Payment method</h2><p>{card}</p><form method="post" action="/portal/{id}/card"><label for="card_number">New card number</label><input type="text" id="card_number" name="card_number" placeholder="4242 4242 4242 4242" required><button class="small" type="submit">Update card</button></form></div>
<div class="card"><h2>Invoice history</h2><table><thead><tr><th>Date</th><th>Invoice</th><th>Amount</th><th>Status</th></tr></thead><tbody>{invoices}</tbody></table></div></div>"#,
        email = esc(&email),
        subs = subscription_cards(store, ps),
        card = esc(&card),
        id = esc(&ps.id),
        invoices = invoice_rows(store, ps),
    );
    page(StatusCode::OK, "Billing", &body)
}

async fn show(State(sim): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    sim.read(|store| match store.portal_session(&id) {
        Some(ps) => render(store, ps),
        None => not_found("billing portal session"),
    })
}

/// Runs a portal action for a subscription of the session's customer and redirects back
/// with a flash message (or the error).
fn act(
    sim: &Shared,
    id: &str,
    body: &[u8],
    action: impl FnOnce(&mut Store, &str, &HashMap<String, String>) -> Result<String, ApiError>,
) -> Response {
    let fields = form(body);
    let done = sim.with(|store| {
        let customer = store.portal_session(id).map(|p| p.customer.clone())?;
        let sub = fields.get("subscription").cloned().unwrap_or_default();
        let result = if store.customer(&customer).is_none() {
            // Deleted after the session was opened: nothing may change for it any more.
            Err(ApiError::missing_resource(
                "customer", &customer, "customer",
            ))
        } else if !sub.is_empty()
            && store
                .subscription(&sub)
                .is_none_or(|s| s.customer != customer)
        {
            Err(ApiError::missing_resource(
                "subscription",
                &sub,
                "subscription",
            ))
        } else {
            action(store, &customer, &fields)
        };
        let msg = result.unwrap_or_else(|e| format!("Could not complete that: {}", e.message));
        if let Some(ps) = store.portal_sessions.iter_mut().find(|p| p.id == id) {
            ps.flash = Some(msg);
        }
        Some(())
    });
    match done {
        Some(()) => see_other(&format!("/portal/{id}")),
        None => not_found("billing portal session"),
    }
}

/// A form field, or "" when it is missing.
fn field<'a>(fields: &'a HashMap<String, String>, key: &str) -> &'a str {
    fields.get(key).map(String::as_str).unwrap_or_default()
}

async fn switch(State(sim): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    act(&sim, &id, &body, |store, _, fields| {
        let (sub, price) = (field(fields, "subscription"), field(fields, "price"));
        change_price(store, sub, None, price, None, "create_prorations")?;
        let name = store
            .price(price)
            .and_then(|p| store.product(&p.product))
            .map_or("the new plan", |p| p.name.as_str());
        Ok(format!("Switched to {name}."))
    })
}

async fn cancel(State(sim): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    act(&sim, &id, &body, |store, _, fields| {
        let sub = field(fields, "subscription");
        let end = store
            .subscription(sub)
            .map(|s| s.current_period_end)
            .ok_or_else(|| ApiError::missing("subscription"))?;
        set_cancel_at_period_end(store, sub, true);
        Ok(format!("Your subscription will end on {}.", date(end)))
    })
}

async fn resume(State(sim): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    act(&sim, &id, &body, |store, _, fields| {
        let sub = field(fields, "subscription");
        if store
            .subscription(sub)
            .is_none_or(|s| s.status == SubStatus::Canceled)
        {
            return Err(ApiError::missing("subscription"));
        }
        set_cancel_at_period_end(store, sub, false);
        Ok("Your subscription will continue.".to_owned())
    })
}

/// Saves a new default card; declining test cards are refused like a failed SetupIntent (an
/// on-session check). Past-due invoices are retried with the new card right away, as the real
/// portal does.
async fn card(State(sim): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    act(&sim, &id, &body, |store, customer, fields| {
        let method = add_card(store, field(fields, "card_number"), Some(customer))?;
        if let Some(behavior) = store.payment_method(&method).map(|m| m.behavior) {
            decline(behavior, true)?;
        }
        set_default_card(store, customer, &method, None);
        let overdue: Vec<String> = store
            .invoices
            .iter()
            .filter(|i| {
                i.customer == customer
                    && i.status == InvoiceStatus::Open
                    && i.next_payment_attempt.is_some()
            })
            .map(|i| i.id.clone())
            .collect();
        for invoice in overdue {
            retry_invoice(store, &invoice);
        }
        Ok("Your card was updated.".to_owned())
    })
}
