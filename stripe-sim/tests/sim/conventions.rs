//! Stripe's HTTP conventions: auth, error JSON and status codes, form brackets, idempotency,
//! pagination.

use serde_json::Value;
use stripe::{IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::customer::{CreateCustomer, ListCustomer};

use crate::common::*;

async fn post(
    http: &reqwest::Client,
    url: &str,
    key: Option<&str>,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let mut req = http.post(url).form(form);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    let resp = req.bearer_auth(KEY).send().await.expect("post");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

#[tokio::test]
async fn auth_errors_look_like_stripe() {
    bounded(async {
        let sim = sim().await;
        let http = http();
        let url = format!("{}/v1/customers", sim.base_url());
        for auth in [
            None,
            Some("Bearer sk_live_nope"),
            Some("Basic abc"),
            Some("Bearer pk_test_123"),
        ] {
            let mut req = http.get(&url);
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let resp = req.send().await.expect("get");
            assert_eq!(resp.status(), 401, "{auth:?}");
            let body: Value = resp.json().await.expect("json");
            assert_eq!(body["error"]["type"], "invalid_request_error");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
            );
        }
        // The real client surfaces it as a Stripe error with status 401.
        let bad = stripe::ClientBuilder::new("sk_live_x")
            .url(sim.base_url())
            .build()
            .expect("client");
        match ListCustomer::new().send(&bad).await {
            Err(StripeError::Stripe(e, 401)) => {
                assert_eq!(e.type_, stripe::ApiErrorsType::InvalidRequestError)
            }
            other => panic!("expected 401, got {other:?}"),
        }
    })
    .await;
}

/// `curl -u sk_test_…:`, the form of every example in Stripe's API reference, is HTTP Basic with
/// the key as user name and an empty password; Stripe accepts it, and so must the sim.
#[tokio::test]
async fn basic_auth_with_the_key_as_user_name_is_accepted() {
    bounded(async {
        let sim = sim().await;
        let http = http();
        let url = format!("{}/v1/customers", sim.base_url());
        let ok = http
            .get(&url)
            .basic_auth(KEY, Some(""))
            .send()
            .await
            .expect("get");
        assert_eq!(ok.status(), 200);
        let live = http
            .get(&url)
            .basic_auth("sk_live_nope", Some(""))
            .send()
            .await
            .expect("get");
        assert_eq!(live.status(), 401);
        assert!(sim.api_requests() >= 2, "the sim counts API requests");
    })
    .await;
}

/// Posts `form` and checks Stripe's error: status, `code` and `param`.
async fn expect_error(
    http: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
    (status, code, param): (u16, &str, &str),
) {
    let (got, body) = post(http, url, None, form).await;
    assert_eq!(got, status);
    assert_eq!(body["error"]["code"], code);
    assert_eq!(body["error"]["param"], param);
}

/// Bad parameters, each with the (status, code, param) Stripe answers.
type ErrorCase = (
    &'static str,
    &'static [(&'static str, &'static str)],
    (u16, &'static str, &'static str),
);

const PARAMETER_ERRORS: [ErrorCase; 4] = [
    (
        "/v1/customers",
        &[("emial", "x@y.z")],
        (400, "parameter_unknown", "emial"),
    ),
    (
        "/v1/products",
        &[("description", "no name")],
        (400, "parameter_missing", "name"),
    ),
    (
        "/v1/checkout/sessions",
        &[
            ("mode", "subscription"),
            ("success_url", "http://x/"),
            ("line_items[0][price]", "price_nope"),
        ],
        (404, "resource_missing", "line_items[0][price]"),
    ),
    (
        "/v1/checkout/sessions",
        &[
            ("mode", "subscription"),
            ("success_url", "http://x/"),
            ("line_items[0][prize]", "x"),
        ],
        (400, "parameter_unknown", "line_items[0][prize]"),
    ),
];

/// Unknown ids and URLs are 404s, also as async-stripe sees them.
async fn missing_resources_are_404(sim: &stripe_sim::Sim, http: &reqwest::Client) {
    let base = sim.base_url();
    let resp = http
        .get(format!("{base}/v1/customers/cus_missing"))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error"]["code"], "resource_missing");
    assert_eq!(body["error"]["type"], "invalid_request_error");

    let resp = http
        .get(format!("{base}/v1/nothing_here"))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 404);

    let c = client(sim);
    match stripe_product::price::RetrievePrice::new("price_missing")
        .send(&c)
        .await
    {
        Err(StripeError::Stripe(e, 404)) => {
            assert_eq!(e.code, Some(stripe::ApiErrorsCode::ResourceMissing))
        }
        other => panic!("expected 404, got {other:?}"),
    }
}

#[tokio::test]
async fn parameter_errors_and_missing_resources() {
    bounded(async {
        let sim = sim().await;
        let http = http();
        for (path, form, expected) in PARAMETER_ERRORS {
            let url = format!("{}{path}", sim.base_url());
            expect_error(&http, &url, form, expected).await;
        }
        missing_resources_are_404(&sim, &http).await;
    })
    .await;
}

#[tokio::test]
async fn brackets_metadata_and_expand_in_forms() {
    bounded(async {
        let sim = sim().await;
        let http = http();
        let base = sim.base_url();
        let form = [
            ("email", "b@x.io"),
            ("metadata[user_id]", "42"),
            ("metadata[plan]", "pro"),
        ];
        let (status, cus) = post(&http, &format!("{base}/v1/customers"), None, &form).await;
        assert_eq!(status, 200);
        assert_eq!(cus["metadata"]["user_id"], "42");
        let id = cus["id"].as_str().expect("id");
        // An empty value deletes one metadata key.
        let url = format!("{base}/v1/customers/{id}");
        let (_, cus) = post(&http, &url, None, &[("metadata[plan]", "")]).await;
        assert_eq!(cus["metadata"], serde_json::json!({ "user_id": "42" }));
        let price = sim.price_id("basic_monthly").expect("price");
        let (status, s) = post(
            &http,
            &format!("{base}/v1/checkout/sessions"),
            None,
            &[
                ("mode", "subscription"),
                ("customer", id),
                ("success_url", "http://x/?s={CHECKOUT_SESSION_ID}"),
                ("line_items[0][price]", &price),
                ("line_items[0][quantity]", "1"),
                ("expand[]", "customer"),
                ("expand[]", "line_items"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{s}");
        assert_eq!(s["customer"]["email"], "b@x.io");
        assert_eq!(s["line_items"]["data"][0]["price"]["id"], price.as_str());
        let list: Value = http
            .get(format!(
                "{base}/v1/prices?{}",
                "lookup_keys[]=pro_monthly&lookup_keys[]=basic_yearly&expand[]=data.product"
            ))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(list["data"].as_array().map(Vec::len), Some(2));
        assert_eq!(list["data"][0]["product"]["object"], "product");
    })
    .await;
}

#[tokio::test]
async fn idempotency_keys() {
    bounded(async {
        let sim = sim().await;
        let http = http();
        let url = format!("{}/v1/customers", sim.base_url());
        let (s1, a) = post(&http, &url, Some("key-1"), &[("email", "i@x.io")]).await;
        let (s2, b) = post(&http, &url, Some("key-1"), &[("email", "i@x.io")]).await;
        assert_eq!((s1, s2), (200, 200));
        assert_eq!(a, b, "same key + same body → same stored response");
        let (s3, err) = post(&http, &url, Some("key-1"), &[("email", "other@x.io")]).await;
        assert_eq!(s3, 400);
        assert_eq!(err["error"]["type"], "idempotency_error");
        // A failed validation is not stored: the key can be reused after fixing the request.
        let (s4, _) = post(&http, &url, Some("key-2"), &[("bogus", "1")]).await;
        assert_eq!(s4, 400);
        let (s5, _) = post(&http, &url, Some("key-2"), &[("email", "fixed@x.io")]).await;
        assert_eq!(s5, 200);

        // Through async-stripe: one customer however often the request is replayed.
        let c = client(&sim);
        let key = IdempotencyKey::new("user-42-customer").expect("key");
        let mut ids = Vec::new();
        for _ in 0..3 {
            let cus = CreateCustomer::new()
                .email("once@x.io")
                .customize()
                .request_strategy(RequestStrategy::Idempotent(key.clone()))
                .send(&c)
                .await
                .expect("create");
            ids.push(cus.id);
        }
        assert!(ids.windows(2).all(|w| w[0] == w[1]));
        let all = ListCustomer::new()
            .email("once@x.io")
            .send(&c)
            .await
            .expect("list");
        assert_eq!(all.data.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn pagination() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        for i in 0..5 {
            customer(&c, &format!("p{i}@x.io")).await;
        }
        let first = ListCustomer::new().limit(2).send(&c).await.expect("page 1");
        assert_eq!(first.data.len(), 2);
        assert!(first.has_more);
        assert_eq!(
            first.data[0].email.as_deref(),
            Some("p4@x.io"),
            "newest first"
        );
        let last_id = first.data[1].id.as_str().to_owned();
        let second = ListCustomer::new()
            .limit(2)
            .starting_after(last_id.as_str())
            .send(&c)
            .await
            .expect("page 2");
        assert_eq!(
            second
                .data
                .iter()
                .map(|c| c.email.clone().unwrap_or_default())
                .collect::<Vec<_>>(),
            vec!["p2@x.io", "p1@x.io"]
        );
        let third = ListCustomer::new()
            .limit(2)
            .starting_after(second.data[1].id.as_str())
            .send(&c)
            .await
            .expect("page 3");
        assert_eq!(third.data.len(), 1);
        assert!(!third.has_more);
        let back = ListCustomer::new()
            .limit(2)
            .ending_before(second.data[0].id.as_str())
            .send(&c)
            .await
            .expect("before");
        assert_eq!(
            back.data.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            first.data.iter().map(|c| c.id.as_str()).collect::<Vec<_>>()
        );
        let http = http();
        let resp = http
            .get(format!("{}/v1/customers?limit=0", sim.base_url()))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), 400);
    })
    .await;
}

/// The app reads Stripe's clock from its answers' `Date` header (event times are on Stripe's clock):
/// every API answer carries one, in HTTP-date form, on the wall clock as Stripe's does, rounded down
/// to the second it was written in: never later than the answer (the storm short-cut's one-second
/// margin relies on that, storefront's `StripeClock`).
#[tokio::test]
async fn api_answers_carry_stripes_date_header() {
    let sim = sim().await;
    let unix = |at: std::time::SystemTime| {
        at.duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
    };
    let asked = unix(std::time::SystemTime::now());
    let answer = http()
        .get(format!("{}/v1/customers", sim.base_url()))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("request");
    assert_eq!(answer.status(), 200);
    let date = answer.headers()["date"].to_str().expect("ascii").to_owned();
    // "Fri, 04 Dec 2026 21:50:00 GMT"
    assert!(date.ends_with(" GMT") && date.len() == 29, "{date}");
    let year = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| 1970 + d.as_secs() / 31_556_952)
        .unwrap_or_default();
    assert!(date.contains(&format!(" {year} ")), "{date} is this year");
    let answered = unix(std::time::SystemTime::now());
    let written = unix(httpdate::parse_http_date(&date).expect("an HTTP date"));
    assert!(
        asked <= written && written <= answered,
        "{date} ({written}) is not within the request ({asked}..={answered})"
    );
}
