//! Fault switches, through the Rust API and the `/_sim/faults/…` HTTP endpoints.

use std::time::{Duration, Instant};

use serde_json::Value;
use stripe::{RequestStrategy, StripeError, StripeRequest};
use stripe_core::customer::ListCustomer;

use crate::common::*;

fn created_customer_ids(inbox: &Inbox) -> Vec<String> {
    inbox
        .received()
        .iter()
        .filter(|r| r.event.type_.as_str() == "customer.created")
        .map(|r| {
            r.raw["data"]["object"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn duplicate_delivers_the_same_event_twice() {
    bounded(async {
        let (sim, inbox) = sim_with_hook().await;
        sim.faults().duplicate_next_events(1);
        let c = client(&sim);
        customer(&c, "dup1@x.io").await;
        customer(&c, "dup2@x.io").await;
        assert!(sim.wait_for_deliveries(Duration::from_secs(10)).await);
        let ids: Vec<String> = inbox
            .received()
            .iter()
            .filter(|r| r.event.type_.as_str() == "customer.created")
            .map(|r| r.event.id.as_str().to_owned())
            .collect();
        assert_eq!(ids.len(), 3, "first event twice, second once");
        assert_eq!(ids[0], ids[1]);
        assert_ne!(ids[1], ids[2]);
    })
    .await;
}

#[tokio::test]
async fn shuffle_reorders_the_next_events() {
    bounded(async {
        let (sim, inbox) = sim_with_hook().await;
        sim.faults().shuffle_next_events(3);
        let c = client(&sim);
        let mut created = Vec::new();
        for i in 0..3 {
            created.push(
                customer(&c, &format!("s{i}@x.io"))
                    .await
                    .id
                    .as_str()
                    .to_owned(),
            );
        }
        assert!(sim.wait_for_deliveries(Duration::from_secs(10)).await);
        let got = created_customer_ids(&inbox);
        assert_eq!(got.len(), 3);
        assert_ne!(got, created, "order changed");
        let mut sorted = got.clone();
        sorted.sort();
        let mut expect = created.clone();
        expect.sort();
        assert_eq!(sorted, expect, "same events");
        // Afterwards order is back to normal.
        let later: Vec<String> = vec![
            customer(&c, "a@x.io").await.id.as_str().to_owned(),
            customer(&c, "b@x.io").await.id.as_str().to_owned(),
        ];
        assert!(sim.wait_for_deliveries(Duration::from_secs(10)).await);
        assert_eq!(created_customer_ids(&inbox)[3..], later[..]);
    })
    .await;
}

#[tokio::test]
async fn shuffled_events_can_be_released_early() {
    bounded(async {
        let (sim, inbox) = sim_with_hook().await;
        sim.faults().shuffle_next_events(5);
        let c = client(&sim);
        customer(&c, "x@x.io").await;
        customer(&c, "y@x.io").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(created_customer_ids(&inbox).is_empty(), "held back");
        sim.faults().release_shuffled();
        assert!(sim.wait_for_deliveries(Duration::from_secs(10)).await);
        assert_eq!(created_customer_ids(&inbox).len(), 2);
    })
    .await;
}

#[tokio::test]
async fn delay_postpones_deliveries() {
    bounded(async {
        let (sim, inbox) = sim_with_hook().await;
        sim.faults().delay_deliveries(Duration::from_millis(300));
        let started = Instant::now();
        customer(&client(&sim), "late@x.io").await;
        inbox.wait_for_type("customer.created").await;
        assert!(started.elapsed() >= Duration::from_millis(300));
    })
    .await;
}

#[tokio::test]
async fn failing_first_deliveries_to_an_endpoint() {
    bounded(async {
        let (sim, inbox) = sim_with_hook().await;
        let endpoint = sim.webhook_endpoint_id().expect("endpoint").to_owned();
        sim.faults().fail_next_deliveries(2, Some(&endpoint));
        customer(&client(&sim), "flaky@x.io").await;
        inbox.wait_for_type("customer.created").await;
        assert!(sim.wait_for_deliveries(Duration::from_secs(10)).await);
        let tries: Vec<_> = sim
            .deliveries()
            .into_iter()
            .filter(|d| d.event_type == "customer.created")
            .collect();
        assert_eq!(
            tries
                .iter()
                .map(|d| (d.injected, d.status, d.ok))
                .collect::<Vec<_>>(),
            vec![
                (true, Some(500), false),
                (true, Some(500), false),
                (false, Some(200), true)
            ]
        );
        assert_eq!(created_customer_ids(&inbox).len(), 1);
    })
    .await;
}

#[tokio::test]
async fn api_errors_latency_and_retrying_clients() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        sim.faults().fail_next_api_calls(1, 500);
        match ListCustomer::new().send(&c).await {
            Err(StripeError::Stripe(e, 500)) => {
                assert_eq!(e.type_, stripe::ApiErrorsType::ApiError)
            }
            other => panic!("expected 500, got {other:?}"),
        }
        assert!(
            ListCustomer::new().send(&c).await.is_ok(),
            "only the next call fails"
        );
        sim.faults().fail_next_api_calls(1, 429);
        match ListCustomer::new().send(&c).await {
            Err(StripeError::Stripe(e, 429)) => {
                assert_eq!(e.code, Some(stripe::ApiErrorsCode::RateLimit))
            }
            other => panic!("expected 429, got {other:?}"),
        }
        // A client that retries gets through (the sim sends Stripe-Should-Retry: true).
        sim.faults().fail_next_api_calls(2, 500);
        let ok = ListCustomer::new()
            .customize()
            .request_strategy(RequestStrategy::Retry(3))
            .send(&c)
            .await;
        assert!(ok.is_ok(), "{ok:?}");
        sim.faults().set_api_latency(Duration::from_millis(200));
        let t = Instant::now();
        ListCustomer::new().send(&c).await.expect("slow call");
        assert!(t.elapsed() >= Duration::from_millis(200));
        sim.faults().reset();
        assert!(sim.faults().is_clear());
    })
    .await;
}

/// `POST /_sim/faults/{path}` as a form; asserts 200 and returns the switches.
async fn set_fault(http: &reqwest::Client, base: &str, path: &str, form: &[(&str, &str)]) -> Value {
    let resp = http
        .post(format!("{base}/_sim/faults/{path}"))
        .form(form)
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200, "{path}");
    resp.json::<Value>().await.expect("json")
}

#[tokio::test]
async fn fault_switches_over_http() {
    bounded(async {
        let sim = sim().await;
        let http = http();
        let base = sim.base_url();
        set_fault(&http, base, "duplicate", &[("count", "2")]).await;
        set_fault(&http, base, "shuffle", &[("count", "3")]).await;
        set_fault(&http, base, "delay", &[("ms", "50")]).await;
        let endpoint_failures = [("count", "4"), ("endpoint", "we_x")];
        set_fault(&http, base, "fail_deliveries", &endpoint_failures).await;
        set_fault(&http, base, "fail_deliveries", &[("count", "1")]).await;
        set_fault(&http, base, "latency", &[("ms", "5")]).await;
        let api_errors = [("count", "1"), ("status", "429")];
        let all = set_fault(&http, base, "api_errors", &api_errors).await;
        assert_eq!(all["duplicate_next"], 2);
        assert_eq!(all["shuffle_next"], 3);
        assert_eq!(all["delivery_delay_ms"], 50);
        assert_eq!(all["fail_deliveries_for"]["we_x"], 4);
        assert_eq!(all["fail_deliveries"], 1);
        assert_eq!(all["api_latency_ms"], 5);
        assert_eq!(
            (all["api_errors"].as_u64(), all["api_error_status"].as_u64()),
            (Some(1), Some(429))
        );
        let f = sim.faults().snapshot();
        assert_eq!(
            (&f["duplicate_next"], &f["api_errors"]),
            (&2.into(), &1.into())
        );
        let resp = http
            .get(format!("{base}/v1/customers"))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), 429);
        let bad = http
            .post(format!("{base}/_sim/faults/api_errors"))
            .form(&[("count", "1"), ("status", "418")])
            .send()
            .await
            .expect("post");
        assert_eq!(bad.status(), 400);
        let json = http
            .post(format!("{base}/_sim/faults/duplicate"))
            .json(&serde_json::json!({ "count": 7 }))
            .send()
            .await
            .expect("post");
        assert_eq!(
            json.json::<Value>().await.expect("json")["duplicate_next"],
            7
        );
        let reset = set_fault(&http, base, "reset", &[]).await;
        assert_eq!(reset["duplicate_next"], 0);
        assert!(sim.faults().is_clear());
    })
    .await;
}

/// `GET /v1/customers` once; (status, `Retry-After`, `Stripe-Should-Retry`).
async fn customers_headers(http: &reqwest::Client, base: &str) -> (u16, Option<String>, String) {
    let resp = http
        .get(format!("{base}/v1/customers"))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("get");
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let retry_after = header("retry-after");
    let should_retry = header("stripe-should-retry").unwrap_or_default();
    (resp.status().as_u16(), retry_after, should_retry)
}

#[tokio::test]
async fn rate_limits_carry_retry_after_and_server_errors_should_retry() {
    bounded(async {
        let sim = sim().await;
        let (http, base) = (http(), sim.base_url());
        let limited = [("count", "1"), ("status", "429")];
        let all = set_fault(&http, base, "api_errors", &limited).await;
        assert_eq!(all["api_retry_after"], 1, "default");
        let expect = |secs: &str| (429, Some(secs.to_owned()), "true".to_owned());
        assert_eq!(customers_headers(&http, base).await, expect("1"));
        let slower = [("count", "1"), ("status", "429"), ("retry_after", "7")];
        set_fault(&http, base, "api_errors", &slower).await;
        assert_eq!(customers_headers(&http, base).await, expect("7"));
        sim.faults().set_api_retry_after(3);
        sim.faults().fail_next_api_calls(1, 429);
        assert_eq!(customers_headers(&http, base).await, expect("3"));

        set_fault(
            &http,
            base,
            "api_errors",
            &[("count", "1"), ("status", "503")],
        )
        .await;
        let unavailable = customers_headers(&http, base).await;
        assert_eq!(unavailable, (503, None, "true".to_owned()));
        // Outside the fault switch nothing changes: a success, then a 404 that should not retry.
        assert_eq!(customers_headers(&http, base).await.0, 200);
        let missing = http
            .get(format!("{base}/v1/customers/cus_missing"))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("get");
        assert_eq!(missing.status(), 404);
        assert_eq!(missing.headers()["stripe-should-retry"], "false");
        assert!(missing.headers().get("retry-after").is_none());

        let negative = http
            .post(format!("{base}/_sim/faults/api_errors"))
            .form(&[("count", "1"), ("status", "429"), ("retry_after", "-1")])
            .send()
            .await
            .expect("post");
        assert_eq!(negative.status(), 400);
    })
    .await;
}
