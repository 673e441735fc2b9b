//! Helpers for the PaymentIntent tests (`intents`, `intent_rules`, `stripe_js`): API calls with a
//! secret or publishable key, an intent, a card PaymentMethod, a confirm, the hosted 3-D Secure
//! page, the events since start-up.

use serde_json::Value;

use crate::common::*;

pub const PK: &str = "pk_test_sim123";

/// `POST {base}{path}` as a form with `key`; (status, JSON body).
pub async fn post(base: &str, path: &str, key: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = http()
        .post(format!("{base}{path}"))
        .bearer_auth(key)
        .form(form)
        .send()
        .await
        .expect("post");
    (resp.status().as_u16(), resp.json().await.expect("json"))
}

/// `GET {base}{path}` with `key`; (status, JSON body).
pub async fn get(base: &str, path: &str, key: &str) -> (u16, Value) {
    let resp = http()
        .get(format!("{base}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .expect("get");
    (resp.status().as_u16(), resp.json().await.expect("json"))
}

/// A 14.00 USD intent created with the secret key (plus `extra` parameters).
pub async fn intent(base: &str, extra: &[(&str, &str)]) -> Value {
    let mut form = vec![("amount", "1400"), ("currency", "usd")];
    form.extend_from_slice(extra);
    let (status, body) = post(base, "/v1/payment_intents", KEY, &form).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A card PaymentMethod created with the publishable key, as Stripe.js does; its id.
pub async fn card(base: &str, number: &str) -> String {
    let form = [
        ("type", "card"),
        ("card[number]", number),
        ("card[exp_month]", "12"),
        ("card[exp_year]", "2034"),
        ("card[cvc]", "123"),
    ];
    let (status, body) = post(base, "/v1/payment_methods", PK, &form).await;
    assert_eq!(status, 200, "{body}");
    body["id"].as_str().expect("pm id").to_owned()
}

/// Confirms with the publishable key and the intent's client secret (and `return_url`).
pub async fn confirm(base: &str, pi: &Value, pm: &str, return_url: Option<&str>) -> (u16, Value) {
    let id = pi["id"].as_str().expect("pi id");
    let secret = pi["client_secret"].as_str().expect("secret");
    let mut form = vec![("payment_method", pm), ("client_secret", secret)];
    if let Some(url) = return_url {
        form.push(("return_url", url));
    }
    post(
        base,
        &format!("/v1/payment_intents/{id}/confirm"),
        PK,
        &form,
    )
    .await
}

/// Confirms `pi` with 3155 and a return URL; the `redirect_to_url` URL.
pub async fn requires_action(base: &str, pi: &Value, return_url: Option<&str>) -> String {
    let pm = card(base, "4000002500003155").await;
    let (status, body) = confirm(base, pi, &pm, return_url).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "requires_action");
    let action = &body["next_action"];
    assert_eq!(action["type"], "redirect_to_url");
    assert_eq!(
        action["redirect_to_url"]["return_url"],
        return_url.map_or(Value::Null, Value::from)
    );
    let url = action["redirect_to_url"]["url"].as_str().expect("url");
    let id = pi["id"].as_str().expect("id");
    assert!(url.starts_with(&format!("{base}/3ds/{id}?")), "{url}");
    url.to_owned()
}

/// Presses a button of the hosted 3-D Secure page at `url`.
pub async fn press(url: &str, pi: &Value, action: &str) -> reqwest::Response {
    let page = text(http().get(url).send().await.expect("page")).await;
    assert!(page.contains("Complete authentication") && page.contains("Fail authentication"));
    let post_url = url.split('?').next().expect("path");
    let secret = pi["client_secret"].as_str().expect("secret");
    http()
        .post(post_url)
        .form(&[("action", action), ("client_secret", secret)])
        .send()
        .await
        .expect("post")
}

/// Types of the events after the seed catalog, oldest first.
pub fn event_types(sim: &stripe_sim::Sim) -> Vec<String> {
    sim.events()
        .iter()
        .skip(SEED_EVENTS)
        .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// `object` has the keys of Stripe's example `name` object, with compatible types.
pub fn assert_shape(name: &str, object: &Value) {
    let mut errors = Vec::new();
    let fixtures = crate::shapes::fixtures();
    crate::shapes::compare(name, &fixtures[name], object, &mut errors);
    assert!(errors.is_empty(), "{name}: {errors:?}");
}
