//! Hosted Checkout: `{base}/checkout/{cs_id}` with the order summary, a card form (and, in
//! payment mode, a US bank account form), and the 3-D Secure step for cards that need it.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::{esc, form, money, not_found, page, per, see_other};
use crate::billing::checkout::{PayOutcome, authenticate, pay, pay_bank};
use crate::billing::discounts::apply_code;
use crate::billing::shipping::{ShippingChoice, choose};
use crate::error::ApiError;
use crate::model::{CheckoutSession, SessionStatus};
use crate::shared::Shared;
use crate::store::Store;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/checkout/{id}", get(show))
        .route("/checkout/{id}/pay", axum::routing::post(submit))
        .route("/checkout/{id}/pay_bank", axum::routing::post(submit_bank))
        .route(
            "/checkout/{id}/shipping",
            axum::routing::post(submit_shipping),
        )
        .route(
            "/checkout/{id}/promotion_code",
            axum::routing::post(submit_code),
        )
        .route(
            "/checkout/{id}/authenticate",
            get(show_auth).post(submit_auth),
        )
}

/// Plan name, price line and trial note for the summary column.
fn summary(store: &Store, s: &CheckoutSession) -> String {
    let mut lines = String::new();
    let mut headline = String::new();
    for l in &s.lines {
        let Some(price) = store.price(&l.price) else {
            continue;
        };
        let name = store
            .product(&price.product)
            .map_or("Item", |p| p.name.as_str());
        let amount = money(price.unit_amount * l.quantity, &price.currency);
        let cadence = price
            .recurring
            .as_ref()
            .map(|r| per(&r.interval, r.interval_count))
            .unwrap_or_default();
        if headline.is_empty() && s.mode == "payment" {
            headline = format!(
                "<p class=\"muted\">Order</p><div class=\"amount\">{}</div>",
                esc(&money(s.amount_total, &s.currency))
            );
        } else if headline.is_empty() {
            headline = format!(
                "<p class=\"muted\">{}</p><div class=\"amount\">{}{}</div>",
                esc(name),
                esc(&amount),
                if cadence.is_empty() {
                    String::new()
                } else {
                    format!(" <small>{}</small>", esc(&cadence))
                }
            );
        }
        lines.push_str(&format!(
            "<div class=\"line\"><span>{} × {}</span><span>{} {}</span></div>",
            esc(name),
            l.quantity,
            esc(&amount),
            esc(&cadence)
        ));
    }
    let trial = match s.trial_period_days {
        Some(days) if days > 0 => format!(
            "<div class=\"flash\">{days}-day free trial — nothing is charged today; then {} {}.</div><div class=\"line\"><strong>Due today</strong><strong>{}</strong></div>",
            esc(&money(s.amount_total, &s.currency)),
            esc(&s
                .lines
                .first()
                .and_then(|l| store.price(&l.price))
                .and_then(|p| p.recurring.as_ref())
                .map(|r| per(&r.interval, r.interval_count))
                .unwrap_or_default()),
            esc(&money(0, &s.currency)),
        ),
        _ => format!(
            "<div class=\"line\"><strong>Total due today</strong><strong>{}</strong></div>",
            esc(&money(s.amount_total, &s.currency))
        ),
    };
    let shipping = super::checkout_shipping::summary_line(store, s);
    let discount = super::checkout_shipping::discount_line(store, s);
    let tax = super::checkout_shipping::tax_line(s);
    format!("{headline}{lines}{discount}{shipping}{tax}{trial}")
}

fn render(store: &Store, s: &CheckoutSession, error: Option<&str>, status: StatusCode) -> Response {
    let back = s
        .cancel_url
        .as_ref()
        .map(|u| {
            format!(
                "<a class=\"back\" href=\"{}\">← Cancel and go back</a>",
                esc(u)
            )
        })
        .unwrap_or_default();
    let email = store.checkout_email(s).unwrap_or_default();
    let error = error
        .map(|e| format!("<div class=\"error\" role=\"alert\">{}</div>", esc(e)))
        .unwrap_or_default();
    let action = if s.mode == "subscription" {
        if s.trial_period_days.is_some_and(|d| d > 0) {
            "Start trial"
        } else {
            "Subscribe"
        }
    } else {
        "Pay"
    };
    if s.needs_shipping_step() {
        let body = format!(
            r#"<div class="wrap"><div>{back}<h1>Checkout</h1>{summary}</div><div>{step}</div></div>"#,
            summary = summary(store, s),
            step = super::checkout_shipping::step(store, s, &error),
        );
        return page(status, "Checkout", &body);
    }
    let side_forms = format!(
        "{}{}",
        super::checkout_shipping::code_form(s),
        bank_form(s, &email)
    );
    let body = format!(
        r#"<div class="wrap"><div>{back}<h1>Checkout</h1>{summary}</div>
<div><div class="card"><form method="post" action="/checkout/{id}/pay">{error}
<label for="email">Email</label><input type="email" id="email" name="email" value="{email}" required autocomplete="email">
<label for="card_number">Card number</label><input type="text" id="card_number" name="card_number" inputmode="numeric" placeholder="4242 4242 4242 4242" required autocomplete="cc-number">
<div class="row"><div><label for="exp">Expiry</label><input type="text" id="exp" name="exp" placeholder="MM / YY" required autocomplete="cc-exp"></div>
<div><label for="cvc">CVC</label><input type="text" id="cvc" name="cvc" placeholder="123" required autocomplete="cc-csc"></div></div>
<label for="name">Name on card</label><input type="text" id="name" name="name" autocomplete="cc-name">
<button type="submit">{action}</button></form>
<p class="hint">Test cards: <code>4242424242424242</code> succeeds · <code>4000000000000002</code> declined · <code>4000000000009995</code> insufficient funds · <code>4000000000003220</code> authentication · <code>4000000000000341</code> fails on renewal. Any future expiry and CVC.</p></div>{bank}</div></div>"#,
        summary = summary(store, s),
        bank = side_forms,
        id = esc(&s.id),
        email = esc(&email),
    );
    page(status, "Checkout", &body)
}

/// The second payment method of payment-mode sessions that do not ask for cards alone: a US bank
/// account debited later.
fn bank_form(s: &CheckoutSession, email: &str) -> String {
    if !s.accepts_bank_debit() {
        return String::new();
    }
    format!(
        r#"<div class="card"><h2>US bank account (test, settles later)</h2><form method="post" action="/checkout/{id}/pay_bank">
<label for="bank_email">Email</label><input type="email" id="bank_email" name="email" value="{email}" required autocomplete="email">
<label for="account_number">Account number</label><input type="text" id="account_number" name="account_number" inputmode="numeric" placeholder="000123456789" required>
<button type="submit" class="secondary">Pay with bank account</button></form>
<p class="hint">Routing number <code>110000000</code>. <code>000123456789</code> succeeds · <code>000111111113</code> fails (account closed). The debit settles 60 s later on the sim clock.</p></div>"#,
        id = esc(&s.id),
        email = esc(email),
    )
}

fn closed(s: &CheckoutSession) -> Response {
    let (title, text) = match s.status {
        SessionStatus::Complete => (
            "Payment complete",
            "This checkout session is already complete.",
        ),
        _ => ("Session expired", "This checkout session has expired."),
    };
    let link = match (s.status, &s.success_url, &s.cancel_url) {
        (SessionStatus::Complete, Some(u), _) => format!(
            "<a class=\"button\" href=\"{}\">Continue</a>",
            esc(&u.replace("{CHECKOUT_SESSION_ID}", &s.id))
        ),
        (_, _, Some(u)) => format!(
            "<a class=\"button secondary\" href=\"{}\">Go back</a>",
            esc(u)
        ),
        _ => String::new(),
    };
    page(
        StatusCode::OK,
        title,
        &format!(
            "<div class=\"wrap single\"><div class=\"card\"><h1>{title}</h1><p class=\"muted\">{text}</p>{link}</div></div>"
        ),
    )
}

async fn show(State(sim): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    sim.read(|store| match store.session(&id) {
        None => not_found("checkout session"),
        Some(s) if s.status != SessionStatus::Open => closed(s),
        Some(s) => render(store, s, None, StatusCode::OK),
    })
}

/// Basic card-form checks a real page does client-side: a plausible expiry and CVC.
fn validate_form(exp: &str, cvc: &str) -> Result<(), &'static str> {
    let digits: String = exp.chars().filter(char::is_ascii_digit).collect();
    let month: u32 = digits.get(..2).and_then(|m| m.parse().ok()).unwrap_or(0);
    if digits.len() != 4 && digits.len() != 6 || !(1..=12).contains(&month) {
        return Err("Your card's expiration date is incomplete.");
    }
    if !(3..=4).contains(&cvc.trim().len()) || !cvc.trim().chars().all(|c| c.is_ascii_digit()) {
        return Err("Your card's security code is incomplete.");
    }
    Ok(())
}

fn outcome(sim: &Shared, id: &str, result: Result<PayOutcome, ApiError>) -> Response {
    match result {
        Ok(PayOutcome::Redirect(url)) => see_other(&url),
        Ok(PayOutcome::Authenticate) => see_other(&format!("/checkout/{id}/authenticate")),
        Err(e) => sim.read(|store| match store.session(id) {
            Some(s) if s.status == SessionStatus::Open => {
                render(store, s, Some(&e.message), e.status)
            }
            Some(s) => closed(s),
            None => not_found("checkout session"),
        }),
    }
}

async fn submit(State(sim): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    let fields = form(&body);
    let field = |k: &str| {
        fields
            .get(k)
            .map(String::as_str)
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    let (email, card) = (field("email"), field("card_number"));
    let check = if email.is_empty() || !email.contains('@') {
        Err("Your email is incomplete.")
    } else if card.is_empty() {
        Err("Your card number is incomplete.")
    } else {
        validate_form(&field("exp"), &field("cvc"))
    };
    if let Err(msg) = check {
        return outcome(&sim, &id, Err(ApiError::invalid("card", msg.to_owned())));
    }
    let result = sim.with(|store| pay(store, &id, Some(&email), &card));
    outcome(&sim, &id, result)
}

/// The shipping step's form (`checkout_shipping::step`).
async fn submit_shipping(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    let text = |k: &str| fields.get(k).map_or("", |v| v.trim()).to_owned();
    let optional = |k: &str| Some(text(k)).filter(|v| !v.is_empty());
    let choice = ShippingChoice {
        name: text("shipping_name"),
        line1: text("shipping_line1"),
        line2: optional("shipping_line2"),
        city: text("shipping_city"),
        state: optional("shipping_state"),
        postal_code: text("shipping_postal_code"),
        country: text("shipping_country"),
        rate: optional("shipping_rate"),
    };
    match sim.with(|store| choose(store, &id, &choice)) {
        Ok(()) => see_other(&format!("/checkout/{id}")),
        Err(error) => outcome(&sim, &id, Err(error)),
    }
}

/// The promotion-code box (`checkout_shipping::code_form`).
async fn submit_code(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    let code = fields.get("code").map_or("", |c| c.trim()).to_owned();
    match sim.with(|store| apply_code(store, &id, &code)) {
        Ok(()) => see_other(&format!("/checkout/{id}")),
        Err(error) => outcome(&sim, &id, Err(error)),
    }
}

async fn submit_bank(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    let field = |k: &str| fields.get(k).map_or("", |v| v.trim()).to_owned();
    let (email, account) = (field("email"), field("account_number"));
    if email.is_empty() || !email.contains('@') {
        let error = ApiError::invalid("email", "Your email is incomplete.".to_owned());
        return outcome(&sim, &id, Err(error));
    }
    if account.is_empty() {
        let error = ApiError::missing("account_number");
        return outcome(&sim, &id, Err(error));
    }
    let result = sim.with(|store| pay_bank(store, &id, Some(&email), &account));
    outcome(&sim, &id, result)
}

async fn show_auth(State(sim): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    sim.read(|store| match store.session(&id) {
        None => not_found("checkout session"),
        Some(s) if s.status != SessionStatus::Open => closed(s),
        Some(s) if s.pending_payment_method.is_none() => see_other(&format!("/checkout/{}", s.id)),
        Some(s) => page(
            StatusCode::OK,
            "Authenticate payment",
            &format!(
                r#"<div class="wrap single"><div class="card"><h1>3D Secure authentication</h1>
<p class="muted">Your bank asks you to confirm this payment of <strong>{amount}</strong>. This is a test page: choose the outcome.</p>
<form method="post" action="/checkout/{id}/authenticate"><input type="hidden" name="action" value="complete"><button type="submit">Complete authentication</button></form>
<form method="post" action="/checkout/{id}/authenticate"><input type="hidden" name="action" value="fail"><button type="submit" class="secondary">Fail authentication</button></form></div></div>"#,
                amount = esc(&money(s.amount_total, &s.currency)),
                id = esc(&s.id)
            ),
        ),
    })
}

async fn submit_auth(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    let approve = match fields.get("action").map(String::as_str) {
        Some("complete") => true,
        Some("fail") => false,
        _ => return outcome(&sim, &id, Err(ApiError::missing("action"))),
    };
    let result = sim.with(|store| authenticate(store, &id, approve));
    outcome(&sim, &id, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_form_checks() {
        assert!(validate_form("12 / 34", "123").is_ok());
        assert!(validate_form("13/34", "123").is_err());
        assert!(validate_form("12/34", "12").is_err());
        assert!(validate_form("", "123").is_err());
    }
}
