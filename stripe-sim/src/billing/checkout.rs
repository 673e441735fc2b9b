//! Completing a Checkout Session: charge the card, create customer, subscription and invoice.

use super::payments::{self, diff};
use super::subscriptions::{self, NewSubscription};
use crate::http::ApiError;
use crate::objects::{self, checkout as render};
use crate::state::{CardBehavior, Customer, SessionStatus, State};

/// What the hosted page should do after a card was submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayOutcome {
    /// Paid; redirect here (`{CHECKOUT_SESSION_ID}` already replaced).
    Redirect(String),
    /// The card needs the 3-D Secure step first.
    Authenticate,
}

pub fn create_customer(
    st: &mut State,
    email: Option<String>,
    name: Option<String>,
    metadata: crate::state::Meta,
) -> String {
    let id = st.id("cus");
    let prefix: String = id
        .chars()
        .skip(4)
        .take(7)
        .collect::<String>()
        .to_uppercase();
    st.customers.push(Customer {
        id: id.clone(),
        email,
        name,
        phone: None,
        description: None,
        metadata,
        created: st.now,
        default_payment_method: None,
        invoice_prefix: prefix,
        next_invoice_sequence: 1,
        currency: None,
        delinquent: false,
    });
    if let Some(v) = st.customer(&id).map(objects::customer) {
        st.emit("customer.created", v, None);
    }
    id
}

/// Sets the customer's default card (and currency), emitting `customer.updated`.
pub fn set_default_card(st: &mut State, customer: &str, pm: &str, currency: Option<&str>) {
    let Some(before) = st.customer(customer).map(objects::customer) else {
        return;
    };
    if let Some(c) = st.customer_mut(customer) {
        c.default_payment_method = Some(pm.to_owned());
        if c.currency.is_none() {
            c.currency = currency.map(str::to_owned);
        }
    }
    if let Some(p) = st.payment_methods.iter_mut().find(|p| p.id == pm) {
        p.customer = Some(customer.to_owned());
    }
    for s in st
        .subscriptions
        .iter_mut()
        .filter(|s| s.customer == customer && s.status.is_live())
    {
        s.default_payment_method = Some(pm.to_owned());
    }
    if let Some(after) = st.customer(customer).map(objects::customer)
        && let Some(prev) = diff(&before, &after)
    {
        st.emit("customer.updated", after, Some(prev));
    }
}

fn open_session(st: &State, id: &str) -> Result<(), ApiError> {
    match st.session(id).map(|s| s.status) {
        None => Err(ApiError::missing_resource(
            "checkout.session",
            id,
            "session",
        )),
        Some(SessionStatus::Open) => Ok(()),
        Some(other) => Err(ApiError::state(format!(
            "This Checkout Session is {}.",
            other.as_str()
        ))),
    }
}

/// Handles a card submitted on the hosted page. Declines leave the session open.
pub fn pay(
    st: &mut State,
    id: &str,
    email: Option<&str>,
    card: &str,
) -> Result<PayOutcome, ApiError> {
    open_session(st, id)?;
    let pm = payments::add_card(st, card, None)?;
    if let Some(s) = st.session_mut(id)
        && let Some(e) = email.filter(|e| !e.trim().is_empty())
    {
        s.collected_email = Some(e.trim().to_owned());
    }
    if st.payment_method(&pm).map(|p| p.behavior) == Some(CardBehavior::Authenticate) {
        if let Some(s) = st.session_mut(id) {
            s.pending_payment_method = Some(pm);
        }
        return Ok(PayOutcome::Authenticate);
    }
    complete(st, id, &pm)
}

/// Result of the 3-D Secure page.
pub fn authenticate(st: &mut State, id: &str, approve: bool) -> Result<PayOutcome, ApiError> {
    open_session(st, id)?;
    let pm = st
        .session_mut(id)
        .and_then(|s| s.pending_payment_method.take());
    let Some(pm) = pm else {
        return Err(ApiError::state(
            "No payment is waiting for authentication.".to_owned(),
        ));
    };
    if !approve {
        return Err(ApiError::card(
            "payment_intent_authentication_failure",
            None,
            "We are unable to authenticate your payment method. Please choose a different payment method and try again.",
        ));
    }
    complete(st, id, &pm)
}

/// Charges the session's total on-session and creates what Checkout creates.
pub fn complete(st: &mut State, id: &str, pm: &str) -> Result<PayOutcome, ApiError> {
    let s = st
        .session(id)
        .cloned()
        .ok_or_else(|| ApiError::missing_resource("checkout.session", id, "session"))?;
    let trialing = s.mode == "subscription" && s.trial_period_days.is_some_and(|d| d > 0);
    if !trialing && s.amount_total > 0 {
        payments::charge(st, Some(pm), true)?;
    }
    let customer = match &s.customer {
        Some(c) => c.clone(),
        None if s.mode == "subscription" || s.customer_creation.as_deref() == Some("always") => {
            let email = s
                .collected_email
                .clone()
                .or_else(|| s.customer_email.clone());
            create_customer(st, email, None, Default::default())
        }
        None => String::new(),
    };
    if !customer.is_empty() {
        set_default_card(st, &customer, pm, Some(&s.currency));
    }
    let mut subscription = None;
    let mut invoice = None;
    let mut payment_intent = None;
    if s.mode == "subscription" {
        let items: Vec<(String, i64)> = s
            .lines
            .iter()
            .map(|l| (l.price.clone(), l.quantity))
            .collect();
        let (sub, inv) = subscriptions::create(
            st,
            NewSubscription {
                customer: &customer,
                items: &items,
                trial_days: s.trial_period_days,
                metadata: s.subscription_metadata.clone(),
                description: s.subscription_description.clone(),
                payment_method: Some(pm.to_owned()),
            },
        )?;
        subscription = Some(sub);
        invoice = Some(inv);
    } else {
        payment_intent = Some(st.id("pi"));
    }
    if let Some(sess) = st.session_mut(id) {
        sess.status = SessionStatus::Complete;
        sess.payment_status = if trialing {
            "no_payment_required"
        } else {
            "paid"
        };
        if !customer.is_empty() {
            sess.customer = Some(customer);
        }
        sess.subscription = subscription;
        sess.invoice = invoice;
        sess.payment_intent = payment_intent;
    }
    let (v, success) = match st.session(id) {
        Some(sess) => (
            render::session(st, sess),
            sess.success_url.clone().unwrap_or_default(),
        ),
        None => {
            return Err(ApiError::missing_resource(
                "checkout.session",
                id,
                "session",
            ));
        }
    };
    st.emit("checkout.session.completed", v, None);
    Ok(PayOutcome::Redirect(
        success.replace("{CHECKOUT_SESSION_ID}", id),
    ))
}

/// Expires an open session (API `expire`, or 24 h after creation on the clock).
pub fn expire(st: &mut State, id: &str) -> Result<(), ApiError> {
    open_session(st, id)?;
    if let Some(s) = st.session_mut(id) {
        s.status = SessionStatus::Expired;
    }
    if let Some(v) = st.session(id).map(|s| render::session(st, s)) {
        st.emit("checkout.session.expired", v, None);
    }
    Ok(())
}
