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

fn compare(path: &str, fixture: &Value, ours: &Value, errors: &mut Vec<String>) {
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

fn fixtures() -> Value {
    let text = include_str!("../fixtures/stripe-fixtures.json");
    serde_json::from_str::<Value>(text).expect("fixtures parse")["resources"].clone()
}

async fn get(http: &reqwest::Client, base: &str, path: &str) -> Value {
    let resp = http
        .get(format!("{base}{path}"))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("get");
    assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
    resp.json().await.expect("json")
}

#[tokio::test]
async fn objects_match_stripe_fixture_key_sets() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let http = http();
        let base = sim.base_url().to_owned();
        let (cus, sub) = subscribe(&sim, &c, "pro_monthly", "4242424242424242", None).await;
        let session_id = get(
            &http,
            &base,
            &format!("/v1/checkout/sessions?customer={cus}"),
        )
        .await["data"][0]["id"]
            .as_str()
            .expect("session id")
            .to_owned();
        let invoice =
            get(&http, &base, &format!("/v1/invoices?subscription={sub}")).await["data"][0].clone();
        let portal = http
            .post(format!("{base}/v1/billing_portal/sessions"))
            .bearer_auth(KEY)
            .form(&[
                ("customer", cus.as_str()),
                ("return_url", "http://app.test/"),
            ])
            .send()
            .await
            .expect("portal")
            .json::<Value>()
            .await
            .expect("json");
        let endpoint = http
            .post(format!("{base}/v1/webhook_endpoints"))
            .bearer_auth(KEY)
            .form(&[
                ("url", "http://127.0.0.1:9/hook"),
                ("enabled_events[]", "*"),
            ])
            .send()
            .await
            .expect("endpoint")
            .json::<Value>()
            .await
            .expect("json");
        let subscription = get(&http, &base, &format!("/v1/subscriptions/{sub}")).await;
        let price = sim.price_id("pro_monthly").expect("price");
        let ours = [
            (
                "product",
                get(&http, &base, "/v1/products").await["data"][0].clone(),
            ),
            (
                "price",
                get(&http, &base, &format!("/v1/prices/{price}")).await,
            ),
            (
                "customer",
                get(&http, &base, &format!("/v1/customers/{cus}")).await,
            ),
            (
                "checkout.session",
                get(&http, &base, &format!("/v1/checkout/sessions/{session_id}")).await,
            ),
            (
                "item",
                get(
                    &http,
                    &base,
                    &format!("/v1/checkout/sessions/{session_id}/line_items"),
                )
                .await["data"][0]
                    .clone(),
            ),
            (
                "subscription_item",
                subscription["items"]["data"][0].clone(),
            ),
            ("subscription", subscription),
            ("invoice", invoice),
            (
                "event",
                get(&http, &base, "/v1/events").await["data"][0].clone(),
            ),
            ("billing_portal.session", portal),
            ("webhook_endpoint", endpoint),
        ];
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
