//! What the sim's Stripe.js needs from the server: the script and its pages under `/v3`, the
//! publishable key as the `key` parameter (no `Authorization` header, so no CORS preflight),
//! the publishable view of an intent, CORS on publishable answers only, and the 3-D Secure
//! `return_url` that keeps its own query.

use reqwest::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CONTENT_TYPE, HeaderMap};
use serde_json::Value;

use crate::common::*;
use crate::intent_helpers::*;

/// A call as Stripe.js makes it: (status, headers, JSON).
type Answer = (u16, HeaderMap, Value);

async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.expect("json"))
}

/// `POST` with the publishable key as the `key` form field and no `Authorization` header.
async fn js_post(base: &str, path: &str, form: &[(&str, &str)]) -> Answer {
    let mut fields = vec![("key", PK)];
    fields.extend_from_slice(form);
    answer(
        http()
            .post(format!("{base}{path}"))
            .form(&fields)
            .send()
            .await
            .expect("post"),
    )
    .await
}

/// `GET` with the publishable key as the `key` query parameter (plus `query`).
async fn js_get(base: &str, path: &str, query: &[(&str, &str)]) -> Answer {
    let mut fields = vec![("key", PK)];
    fields.extend_from_slice(query);
    answer(
        http()
            .get(format!("{base}{path}"))
            .query(&fields)
            .send()
            .await
            .expect("get"),
    )
    .await
}

fn cors(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(ACCESS_CONTROL_ALLOW_ORIGIN)
        .and_then(|v| v.to_str().ok())
}

/// A card PaymentMethod created the way the card frame creates it; its id.
async fn js_card(base: &str, number: &str) -> String {
    let form = [
        ("type", "card"),
        ("card[number]", number),
        ("card[exp_month]", "12"),
        ("card[exp_year]", "34"),
        ("card[cvc]", "123"),
        ("billing_details[name]", "Jenny Rosen"),
    ];
    let (status, headers, pm) = js_post(base, "/v1/payment_methods", &form).await;
    assert_eq!((status, cors(&headers)), (200, Some("*")), "{pm}");
    pm["id"].as_str().expect("pm id").to_owned()
}

async fn fetch_page(url: &str) -> (HeaderMap, String) {
    let resp = http().get(url).send().await.expect("page");
    assert_eq!(resp.status(), 200, "{url}");
    let headers = resp.headers().clone();
    (headers, text(resp).await)
}

/// The sim's pages may be framed by the app (no `X-Frame-Options`, no `frame-ancestors`).
fn frameable(headers: &HeaderMap) {
    assert!(headers.get("x-frame-options").is_none());
    assert!(headers.get("content-security-policy").is_none());
}

#[tokio::test]
async fn serves_stripe_js_and_its_frames() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url();
        for path in ["/v3/", "/v3"] {
            let (headers, script) = fetch_page(&format!("{base}{path}")).await;
            let kind = headers[CONTENT_TYPE].to_str().expect("type");
            assert!(kind.starts_with("application/javascript"), "{kind}");
            assert!(script.contains("window.Stripe = Stripe"), "defines Stripe");
            assert!(script.contains("confirmCardPayment"));
        }
        let (headers, card) = fetch_page(&format!("{base}/v3/elements/card")).await;
        assert!(
            headers[CONTENT_TYPE]
                .to_str()
                .expect("type")
                .starts_with("text/html")
        );
        frameable(&headers);
        for needle in [
            r#"autocomplete="cc-number""#,
            r#"aria-label="Card number""#,
            r#"aria-label="Expiration date""#,
            r#"aria-label="CVC""#,
            r#"placeholder="MM / YY""#,
        ] {
            assert!(card.contains(needle), "card frame lacks {needle}");
        }
        let (headers, done) = fetch_page(&format!("{base}/v3/authorize-complete")).await;
        frameable(&headers);
        assert!(done.contains("stripe-sim-3ds-complete"));
    })
    .await;
}

#[tokio::test]
async fn the_key_field_pays_and_answers_the_publishable_view() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url();
        let cus = post(base, "/v1/customers", KEY, &[("email", "j@x.io")])
            .await
            .1;
        let extra = [
            ("metadata[order]", "7"),
            ("customer", cus["id"].as_str().expect("cus")),
        ];
        let pi = intent(base, &extra).await;
        let id = pi["id"].as_str().expect("id");
        let secret = pi["client_secret"].as_str().expect("secret");
        let pm = js_card(base, "4242424242424242").await;
        let path = format!("/v1/payment_intents/{id}/confirm");
        let form = [("client_secret", secret), ("payment_method", pm.as_str())];
        let (status, headers, paid) = js_post(base, &path, &form).await;
        assert_eq!((status, cors(&headers)), (200, Some("*")), "{paid}");
        assert_eq!(paid["status"], "succeeded");
        assert_eq!(paid["payment_method"], pm.as_str());
        for hidden in ["metadata", "customer", "latest_charge", "charges"] {
            assert!(
                paid.get(hidden).is_none(),
                "{hidden} shown to a publishable key"
            );
        }
        let pi_path = format!("/v1/payment_intents/{id}");
        let (status, headers, seen) = js_get(base, &pi_path, &[("client_secret", secret)]).await;
        assert_eq!((status, cors(&headers)), (200, Some("*")), "{seen}");
        assert_eq!(seen, paid);
        for key in [
            "id",
            "object",
            "amount",
            "currency",
            "client_secret",
            "created",
            "livemode",
        ] {
            assert!(seen.get(key).is_some(), "{key} missing");
        }
        // The secret key still sees everything, and no CORS header.
        let resp = http()
            .get(format!("{base}{pi_path}"))
            .bearer_auth(KEY)
            .send()
            .await;
        let (status, headers, full) = answer(resp.expect("get")).await;
        assert_eq!((status, cors(&headers)), (200, None));
        assert_eq!(full["metadata"]["order"], "7");
        assert_eq!(full["customer"], cus["id"]);
    })
    .await;
}

#[tokio::test]
async fn a_publishable_retrieve_needs_the_client_secret() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url();
        let pi = intent(base, &[]).await;
        let path = format!("/v1/payment_intents/{}", pi["id"].as_str().expect("id"));
        let (status, _, body) = js_get(base, &path, &[]).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], "parameter_missing");
        assert_eq!(body["error"]["param"], "client_secret");
        let wrong = [("client_secret", "pi_x_secret_y")];
        let (status, headers, body) = js_get(base, &path, &wrong).await;
        assert_eq!((status, cors(&headers)), (400, Some("*")), "{body}");
        assert_eq!(body["error"]["code"], "payment_intent_invalid_parameter");
        let (status, _, _) = js_get(base, "/v1/payment_intents/pi_nope", &wrong).await;
        assert_eq!(status, 404);
    })
    .await;
}

#[tokio::test]
async fn the_key_field_reaches_only_stripe_js_calls() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url();
        let pm = js_card(base, "4242424242424242").await;
        let create = [("amount", "100"), ("currency", "usd")];
        for (status, headers, body) in [
            js_get(base, "/v1/customers", &[]).await,
            js_get(base, "/v1/payment_intents", &[]).await,
            js_get(base, &format!("/v1/payment_methods/{pm}"), &[]).await,
            js_post(base, "/v1/payment_intents", &create).await,
        ] {
            assert_eq!((status, cors(&headers)), (401, Some("*")), "{body}");
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains("publishable API key"), "{message}");
        }
        // A secret key goes in the header; `key` is then an ordinary (unknown) parameter.
        let secret_field = [("key", KEY), ("amount", "100"), ("currency", "usd")];
        let resp = http()
            .post(format!("{base}/v1/payment_intents"))
            .form(&secret_field);
        let (status, headers, _) = answer(resp.send().await.expect("post")).await;
        assert_eq!((status, cors(&headers)), (401, None));
        let (status, body) = post(base, "/v1/payment_intents", KEY, &secret_field).await;
        assert_eq!(
            (status, &body["error"]["param"]),
            (400, &Value::from("key"))
        );
        let (status, _, _) = answer(
            http()
                .get(format!("{base}/v1/customers"))
                .send()
                .await
                .expect("get"),
        )
        .await;
        assert_eq!(status, 401);
    })
    .await;
}

#[tokio::test]
async fn a_decline_shows_the_publishable_intent_and_keys_stay_out_of_idempotency() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url();
        let pi = intent(base, &[("metadata[order]", "8")]).await;
        let id = pi["id"].as_str().expect("id");
        let secret = pi["client_secret"].as_str().expect("secret");
        let pm = js_card(base, "4000000000000002").await;
        let path = format!("/v1/payment_intents/{id}/confirm");
        let form = [("client_secret", secret), ("payment_method", pm.as_str())];
        let (status, headers, body) = js_post(base, &path, &form).await;
        assert_eq!((status, cors(&headers)), (402, Some("*")), "{body}");
        let error = &body["error"];
        assert_eq!(
            (&error["code"], &error["decline_code"]),
            (&"card_declined".into(), &"generic_decline".into())
        );
        assert_eq!(error["payment_intent"]["status"], "requires_payment_method");
        assert!(error["payment_intent"].get("metadata").is_none());
        // The same request with another key is the same request (the key is not a parameter).
        let send = |key: &'static str| {
            let form = [
                ("key", key),
                ("type", "card"),
                ("card[number]", "4242424242424242"),
                ("card[exp_month]", "1"),
                ("card[exp_year]", "40"),
            ];
            http()
                .post(format!("{base}/v1/payment_methods"))
                .header("Idempotency-Key", "pm-1")
                .form(&form)
                .send()
        };
        let first = answer(send("pk_test_a").await.expect("first")).await;
        let again = answer(send("pk_test_b").await.expect("again")).await;
        assert_eq!(first.0, 200, "{}", first.2);
        assert_eq!(again.1["idempotent-replayed"], "true");
        assert_eq!(again.2["id"], first.2["id"]);
    })
    .await;
}

#[tokio::test]
async fn preflights_are_answered_for_publishable_calls() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url();
        let preflight = |path: &str, method: &str| {
            http()
                .request(reqwest::Method::OPTIONS, format!("{base}{path}"))
                .header("Origin", "http://127.0.0.1:3000")
                .header("Access-Control-Request-Method", method)
                .send()
        };
        let ok = preflight("/v1/payment_intents/pi_1/confirm", "POST")
            .await
            .expect("options");
        assert_eq!(ok.status(), 204);
        assert_eq!(cors(ok.headers()), Some("*"));
        let ok = preflight("/v1/payment_intents/pi_1", "GET")
            .await
            .expect("options");
        assert_eq!(ok.status(), 204);
        let refused = preflight("/v1/customers", "GET").await.expect("options");
        assert_eq!(refused.status(), 401);
        assert_eq!(cors(refused.headers()), None);
    })
    .await;
}

#[tokio::test]
async fn three_d_secure_returns_to_the_stripe_js_page_with_its_query() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url();
        let pi = intent(base, &[]).await;
        let id = pi["id"].as_str().expect("id");
        let secret = pi["client_secret"].as_str().expect("secret");
        let back = format!("{base}/v3/authorize-complete?origin=http%3A%2F%2F127.0.0.1%3A8765");
        let url = requires_action(base, &pi, Some(&back)).await;
        let resp = press(&url, &pi, "fail").await;
        assert_eq!(resp.status(), 303);
        let to = location(&resp);
        assert_eq!(
            to,
            format!("{back}&payment_intent={id}&payment_intent_client_secret={secret}&redirect_status=failed")
        );
        let (headers, page) = fetch_page(&to).await;
        frameable(&headers);
        assert!(page.contains("postMessage"));
        let (status, _, seen) = js_get(base, &format!("/v1/payment_intents/{id}"), &[("client_secret", secret)]).await;
        assert_eq!(status, 200);
        assert_eq!(seen["last_payment_error"]["code"], "payment_intent_authentication_failure");
    })
    .await;
}
