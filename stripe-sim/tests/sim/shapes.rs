//! Every object the sim returns carries the keys of Stripe's own example object
//! (`tests/fixtures/stripe-fixtures.json`, from Stripe's OpenAPI fixtures) with compatible
//! JSON types, recursively. Extra keys are only allowed where listed below.

use serde_json::Value;

use crate::common::*;

/// Keys the sim adds beyond the fixture, each with the reason.
const EXTRAS: &[&str] = &[
    // Fixture omits price details on line pricing; apps read the price from here.
    "invoice.lines.data[].pricing.price_details",
    // The create response shows the secret once, like Stripe.
    "webhook_endpoint.secret",
    // Present on `*.updated` events only.
    "event.data.previous_attributes",
    // Stripe's API reference documents `hooks` (a Tax Calculation attached to the intent); the
    // fixture predates it.
    "payment_intent.hooks",
    // The fixture's `shipping` is an empty object (on the intent and the charge); Stripe's API
    // reference documents these keys.
    "payment_intent.shipping.address",
    "payment_intent.shipping.carrier",
    "payment_intent.shipping.name",
    "payment_intent.shipping.phone",
    "payment_intent.shipping.tracking_number",
    "charge.shipping.address",
    "charge.shipping.carrier",
    "charge.shipping.name",
    "charge.shipping.phone",
    "charge.shipping.tracking_number",
];

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

pub(crate) fn compare(path: &str, fixture: &Value, ours: &Value, errors: &mut Vec<String>) {
    // Free-form maps and the event payload (checked per type elsewhere) are not compared.
    if path.ends_with(".metadata") || path == "event.data.object" {
        return;
    }
    match (fixture, ours) {
        (Value::Object(f), Value::Object(o)) => {
            for (k, fv) in f {
                let p = format!("{path}.{k}");
                match o.get(k) {
                    Some(ov) => compare(&p, fv, ov, errors),
                    None => errors.push(format!("missing {p}")),
                }
            }
            for k in o.keys().filter(|k| !f.contains_key(*k)) {
                let p = format!("{path}.{k}");
                if !EXTRAS.contains(&p.as_str()) {
                    errors.push(format!("extra {p}"));
                }
            }
        }
        (Value::Array(f), Value::Array(o)) => {
            if let (Some(a), Some(b)) = (f.first(), o.first()) {
                compare(&format!("{path}[]"), a, b, errors);
            }
        }
        // Nullable fields: the example may show a value where ours is null, or vice versa.
        (Value::Null, _) | (_, Value::Null) => {}
        (a, b) if kind(a) == kind(b) => {}
        (a, b) => errors.push(format!(
            "type of {path}: fixture {} vs sim {}",
            kind(a),
            kind(b)
        )),
    }
}

pub(crate) fn fixtures() -> Value {
    let text = include_str!("../fixtures/stripe-fixtures.json");
    serde_json::from_str::<Value>(text).expect("fixtures parse")["resources"].clone()
}

/// `POST {base}{path}` on the API as a form; the JSON body.
async fn api_post(http: &reqwest::Client, base: &str, path: &str, form: &[(&str, &str)]) -> Value {
    http.post(format!("{base}{path}"))
        .bearer_auth(KEY)
        .form(form)
        .send()
        .await
        .expect("post")
        .json::<Value>()
        .await
        .expect("json")
}

/// The first item of a list endpoint.
async fn first(http: &reqwest::Client, base: &str, path: &str) -> Value {
    api_get(http, base, path).await["data"][0].clone()
}

/// One object of every type the sim returns, named by its fixture key, after a paid
/// subscription checkout.
async fn sim_objects(sim: &stripe_sim::Sim, c: &stripe::Client) -> Vec<(&'static str, Value)> {
    let http = http();
    let base = sim.base_url();
    let (cus, sub) = subscribe(sim, c, "pro_monthly", "4242424242424242", None).await;
    let sessions = format!("/v1/checkout/sessions?customer={cus}");
    let session = first(&http, base, &sessions).await;
    let session_id = session["id"].as_str().expect("session id");
    let invoice = first(&http, base, &format!("/v1/invoices?subscription={sub}")).await;
    let portal_form = [
        ("customer", cus.as_str()),
        ("return_url", "http://app.test/"),
    ];
    let portal = api_post(&http, base, "/v1/billing_portal/sessions", &portal_form).await;
    let endpoint_form = [
        ("url", "http://127.0.0.1:9/hook"),
        ("enabled_events[]", "*"),
    ];
    let endpoint = api_post(&http, base, "/v1/webhook_endpoints", &endpoint_form).await;
    let subscription = api_get(&http, base, &format!("/v1/subscriptions/{sub}")).await;
    let price = sim.price_id("pro_monthly").expect("price");
    let mut ours = Vec::new();
    for (name, path) in [
        ("product", "/v1/products".to_owned()),
        ("price", format!("/v1/prices/{price}")),
        ("customer", format!("/v1/customers/{cus}")),
        (
            "checkout.session",
            format!("/v1/checkout/sessions/{session_id}"),
        ),
        (
            "item",
            format!("/v1/checkout/sessions/{session_id}/line_items"),
        ),
    ] {
        let object = api_get(&http, base, &path).await;
        // Of a list, its first item.
        if object["object"] == "list" {
            ours.push((name, object["data"][0].clone()));
        } else {
            ours.push((name, object));
        }
    }
    ours.push((
        "subscription_item",
        subscription["items"]["data"][0].clone(),
    ));
    ours.push(("subscription", subscription));
    ours.push(("invoice", invoice));
    ours.push(("event", first(&http, base, "/v1/events").await));
    ours.push(("billing_portal.session", portal));
    ours.push(("webhook_endpoint", endpoint));
    ours
}

/// A paid goods order with a partial refund: its PaymentIntent, Charge (listing the refund)
/// and Refund.
async fn payment_objects(sim: &stripe_sim::Sim, c: &stripe::Client) -> Vec<(&'static str, Value)> {
    let http = http();
    let base = sim.base_url();
    let s =
        crate::shop::goods_session(sim, c, None, &[("goods_mug", 2), ("goods_hoodie", 1)]).await;
    sim.act()
        .pay_checkout(s.id.as_str(), Some("shape@x.io"), "4242424242424242")
        .expect("paid");
    let session = api_get(&http, base, &format!("/v1/checkout/sessions/{}", s.id)).await;
    let pi = session["payment_intent"].as_str().expect("pi").to_owned();
    let refund_form = [("payment_intent", pi.as_str()), ("amount", "100")];
    let refund = api_post(&http, base, "/v1/refunds", &refund_form).await;
    let intent = api_get(&http, base, &format!("/v1/payment_intents/{pi}")).await;
    let charge = first(&http, base, &format!("/v1/charges?payment_intent={pi}")).await;
    assert_eq!(charge["refunds"]["data"][0]["id"], refund["id"]);
    vec![
        ("payment_intent", intent),
        ("charge", charge),
        ("refund", refund),
    ]
}

/// A shipped order (issue 22): its rate, the paid session with the address, and the intent's
/// `shipping`.
async fn shipping_objects(sim: &stripe_sim::Sim, c: &stripe::Client) -> Vec<(&'static str, Value)> {
    let http = http();
    let base = sim.base_url();
    let session = crate::shipping::shipped_session(sim)
        .send(c)
        .await
        .expect("session");
    let id = session.id.as_str();
    sim.act()
        .choose_shipping(id, &crate::shipping::address(None))
        .expect("address");
    sim.act()
        .pay_checkout(id, Some("ship@x.io"), "4242424242424242")
        .expect("paid");
    let session = api_get(&http, base, &format!("/v1/checkout/sessions/{id}")).await;
    let rate = session["shipping_cost"]["shipping_rate"]
        .as_str()
        .expect("rate");
    let pi = session["payment_intent"].as_str().expect("pi");
    vec![
        (
            "shipping_rate",
            api_get(&http, base, &format!("/v1/shipping_rates/{rate}")).await,
        ),
        (
            "payment_intent",
            api_get(&http, base, &format!("/v1/payment_intents/{pi}")).await,
        ),
        ("checkout.session", session),
    ]
}

/// The account, and a customer deleted (the delete answer and retrieving it afterwards).
async fn account_and_deleted_customer(sim: &stripe_sim::Sim) -> Vec<(&'static str, Value)> {
    let http = http();
    let base = sim.base_url();
    let cus = api_post(&http, base, "/v1/customers", &[("email", "gone@x.io")]).await;
    let path = format!("/v1/customers/{}", cus["id"].as_str().expect("id"));
    let deleted = http
        .delete(format!("{base}{path}"))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("delete")
        .json::<Value>()
        .await
        .expect("json");
    vec![
        ("account", api_get(&http, base, "/v1/account").await),
        ("deleted_customer", deleted),
        ("deleted_customer", api_get(&http, base, &path).await),
    ]
}

#[tokio::test]
async fn objects_match_stripe_fixture_key_sets() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let mut ours = sim_objects(&sim, &c).await;
        ours.extend(account_and_deleted_customer(&sim).await);
        ours.extend(payment_objects(&sim, &c).await);
        ours.extend(shipping_objects(&sim, &c).await);
        let fx = fixtures();
        let mut errors = Vec::new();
        for (name, value) in &ours {
            assert_eq!(value["object"], fx[name]["object"], "{name} object type");
            compare(name, &fx[name], value, &mut errors);
        }
        assert!(
            errors.is_empty(),
            "shape differences:\n{}",
            errors.join("\n")
        );
    })
    .await;
}

#[test]
fn comparator_catches_differences() {
    let fixture = serde_json::json!({"a": 1, "b": {"c": "x"}, "d": [{"e": true}]});
    let mut errors = Vec::new();
    compare(
        "t",
        &fixture,
        &serde_json::json!({"a": 1, "b": {"c": "y"}, "d": [{"e": false}]}),
        &mut errors,
    );
    assert!(errors.is_empty(), "{errors:?}");
    compare(
        "t",
        &fixture,
        &serde_json::json!({"a": "1", "b": {}, "d": [{"e": true, "f": 1}], "g": 0}),
        &mut errors,
    );
    assert_eq!(
        errors,
        vec![
            "type of t.a: fixture number vs sim string",
            "missing t.b.c",
            "extra t.d[].f",
            "extra t.g"
        ]
    );
}
