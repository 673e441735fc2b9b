//! Helpers for the shop's one-time purchases: payment-mode sessions for the seeded goods, and
//! the event log as types.

use std::collections::HashMap;

use stripe_checkout::checkout_session::*;
use stripe_sim::Sim;

/// A payment-mode session for seeded goods (`(lookup_key, quantity)`), with
/// `payment_intent_data[metadata][order_id]=ord_42` and a cart id in the session metadata.
pub async fn goods_session(
    sim: &Sim,
    client: &stripe::Client,
    customer: Option<&str>,
    items: &[(&str, u64)],
) -> stripe_shared::CheckoutSession {
    let line_items = items
        .iter()
        .map(|(key, quantity)| {
            let mut item = CreateCheckoutSessionLineItems::new();
            item.price = Some(sim.price_id(key).expect("seeded good"));
            item.quantity = Some(*quantity);
            item
        })
        .collect::<Vec<_>>();
    let mut pi_data = CreateCheckoutSessionPaymentIntentData::new();
    pi_data.metadata = Some(HashMap::from([(
        "order_id".to_owned(),
        "ord_42".to_owned(),
    )]));
    pi_data.description = Some("ignored by the sim".to_owned());
    let mut req = CreateCheckoutSession::new()
        .mode(stripe_shared::CheckoutSessionMode::Payment)
        .line_items(line_items)
        .success_url("http://app.test/orders/done?session_id={CHECKOUT_SESSION_ID}")
        .cancel_url("http://app.test/cart")
        .metadata(HashMap::from([("cart".to_owned(), "c1".to_owned())]))
        .payment_intent_data(pi_data);
    if let Some(c) = customer {
        req = req.customer(c);
    }
    req.send(client).await.expect("goods session")
}

/// Types of the events after the first `skip`, oldest first.
pub fn event_types_since(sim: &Sim, skip: usize) -> Vec<String> {
    sim.events()
        .iter()
        .skip(skip)
        .filter_map(|e| e["type"].as_str().map(str::to_owned))
        .collect()
}

/// The data object of the last event of `kind`.
pub fn last_event(sim: &Sim, kind: &str) -> serde_json::Value {
    sim.events()
        .into_iter()
        .rev()
        .find(|e| e["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} event"))
}

/// Posts the hosted bank form.
pub async fn pay_bank(
    http: &reqwest::Client,
    session_url: &str,
    account_number: &str,
) -> reqwest::Response {
    http.post(format!("{session_url}/pay_bank"))
        .form(&[
            ("email", "bank@example.com"),
            ("account_number", account_number),
        ])
        .send()
        .await
        .expect("post")
}
