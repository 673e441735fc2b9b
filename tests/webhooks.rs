//! The webhook route: verification, exactly-once application, any order, failures that Stripe retries.

mod common;

use common::{CARD_OK, TestApp};
use std::collections::HashSet;
use stripe_webhook::Webhook;

const SECRET: &str = "whsec_storefront_tests";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

async fn deliver(app: &TestApp, payload: &str, signature: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(app.url("/api/webhooks/stripe"))
        .header("content-type", "application/json")
        .body(payload.to_owned());
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    request.send().await.expect("delivery")
}

fn signed(payload: &str) -> String {
    Webhook::generate_test_header(payload, SECRET, Some(now()))
}

fn event_json(id: &str, event_type: &str, livemode: bool, object: serde_json::Value) -> String {
    serde_json::json!({
        "id": id, "object": "event", "api_version": "2026-09-30.endive", "created": now(),
        "livemode": livemode, "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null},
        "type": event_type, "data": {"object": object}
    })
    .to_string()
}

async fn events_recorded(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM stripe_events").await
}

#[tokio::test]
async fn forged_or_stale_signatures_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let before = events_recorded(&app).await;
    let payload = event_json(
        "evt_forged",
        "customer.created",
        false,
        serde_json::json!({"id": "cus_x", "object": "customer"}),
    );
    let forged = Webhook::generate_test_header(&payload, "whsec_not_ours", Some(now()));
    let stale = Webhook::generate_test_header(&payload, SECRET, Some(now() - 301));
    for (name, signature) in [
        ("forged", Some(forged.as_str())),
        ("stale", Some(stale.as_str())),
        ("missing", None),
    ] {
        let response = deliver(&app, &payload, signature).await;
        assert_eq!(response.status(), 400, "{name}");
    }
    let tampered = payload.replace("cus_x", "cus_y");
    assert_eq!(
        deliver(&app, &tampered, Some(&signed(&payload)))
            .await
            .status(),
        400,
        "body changed after signing"
    );
    assert_eq!(events_recorded(&app).await, before);
}

#[tokio::test]
async fn a_rotated_secret_still_verifies() {
    let app = TestApp::spawn_with(&[(
        "STRIPE_WEBHOOK_SECRET",
        "whsec_new_secret,whsec_storefront_tests",
    )])
    .await;
    let payload = event_json(
        "evt_rotation",
        "balance.available",
        false,
        serde_json::json!({"object": "balance"}),
    );
    let old = Webhook::generate_test_header(&payload, SECRET, Some(now()));
    assert_eq!(deliver(&app, &payload, Some(&old)).await.status(), 200);
    let new_payload = event_json(
        "evt_rotation_2",
        "balance.available",
        false,
        serde_json::json!({"object": "balance"}),
    );
    let new = Webhook::generate_test_header(&new_payload, "whsec_new_secret", Some(now()));
    assert_eq!(deliver(&app, &new_payload, Some(&new)).await.status(), 200);
}

#[tokio::test]
async fn unknown_types_are_acknowledged_once_and_livemode_mismatch_is_refused() {
    let app = TestApp::spawn().await;
    let payload = event_json(
        "evt_unknown_1",
        "radar.early_fraud_warning.created",
        false,
        serde_json::json!({"object": "radar.early_fraud_warning"}),
    );
    let first = deliver(&app, &payload, Some(&signed(&payload))).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.text().await.expect("body"), "ignored");
    let again = deliver(&app, &payload, Some(&signed(&payload))).await;
    assert_eq!(again.text().await.expect("body"), "duplicate");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM stripe_events WHERE id = 'evt_unknown_1'")
            .await,
        1
    );

    let live = event_json(
        "evt_live_1",
        "balance.available",
        true,
        serde_json::json!({"object": "balance"}),
    );
    assert_eq!(
        deliver(&app, &live, Some(&signed(&live))).await.status(),
        400
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM stripe_events WHERE id = 'evt_live_1'")
            .await,
        0
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let huge = "x".repeat(600 * 1024);
    assert_eq!(
        deliver(&app, &huge, Some(&signed(&huge))).await.status(),
        413
    );
}

#[tokio::test]
async fn duplicated_and_reordered_deliveries_end_in_stripes_state() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    app.sim.duplicate_next_events(200);
    app.sim.shuffle_next_events(200);
    let browser = app
        .subscriber("chaos@example.com", "basic_monthly", CARD_OK)
        .await;
    // Switch plans while deliveries are held back and shuffled.
    let response = app
        .post_form(&browser, "/api/open_billing_portal", "/dashboard", &[])
        .await;
    let portal = common::location(&response);
    let subscription = stripe_subscription_id(&app, "chaos@example.com").await;
    let pro = app.price("pro_monthly");
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{portal}/switch"))
        .form(&[
            ("subscription", subscription.as_str()),
            ("price", pro.as_str()),
        ])
        .send()
        .await
        .expect("switch");
    app.sim.release_shuffled();
    app.settle_webhooks().await;

    assert_eq!(
        app.role_of("chaos@example.com").await,
        "pro",
        "the final state is Stripe's"
    );
    let sent: HashSet<String> = app
        .sim
        .events()
        .iter()
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect();
    let recorded: HashSet<String> = sqlx::query_scalar::<_, String>("SELECT id FROM stripe_events")
        .fetch_all(&app.state.db.pool)
        .await
        .expect("events")
        .into_iter()
        .collect();
    assert!(
        sent.is_subset(&recorded),
        "every event recorded: missing {:?}",
        sent.difference(&recorded)
    );
    let duplicated = app.sim.deliveries().len();
    assert!(
        duplicated > sent.len(),
        "the sim really delivered duplicates ({duplicated} for {})",
        sent.len()
    );
}

async fn stripe_subscription_id(app: &TestApp, email: &str) -> String {
    // The checkout's own sync may not have run yet (webhooks are held): ask Stripe through the app.
    let customer =
        sqlx::query_scalar::<_, String>("SELECT stripe_customer_id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("customer");
    storefront::billing::ssr::sync_customer(&app.state, &customer, None)
        .await
        .expect("sync");
    sqlx::query_scalar::<_, String>("SELECT id FROM subscriptions WHERE customer_id = $1")
        .bind(&customer)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("subscription")
}

#[tokio::test]
async fn a_failure_answers_5xx_records_nothing_and_the_retry_applies() {
    let app = TestApp::spawn().await;
    app.sim.fail_next_deliveries(1000, None);
    app.subscriber("retry@example.com", "basic_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    app.sim.reset_faults();
    let event = app
        .sim
        .events()
        .into_iter()
        .find(|e| e["type"] == "customer.subscription.created")
        .expect("subscription event");
    let payload = event.to_string();
    let id = event["id"].as_str().expect("id").to_owned();

    app.sim.fail_next_api_calls(100, 500);
    let failed = deliver(&app, &payload, Some(&signed(&payload))).await;
    assert!(failed.status().is_server_error(), "{}", failed.status());
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM stripe_events WHERE id = '{id}'"
        ))
        .await,
        0
    );
    assert_eq!(app.role_of("retry@example.com").await, "free");

    app.sim.reset_faults();
    let retried = deliver(&app, &payload, Some(&signed(&payload))).await;
    assert_eq!(retried.status(), 200);
    assert_eq!(retried.text().await.expect("body"), "applied");
    assert_eq!(app.role_of("retry@example.com").await, "basic");
    let replay = deliver(&app, &payload, Some(&signed(&payload))).await;
    assert_eq!(replay.text().await.expect("body"), "duplicate");
}

#[tokio::test]
async fn catalog_changes_arrive_by_webhook_even_price_before_product() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let stripe = reqwest::Client::new();
    let api = |path: &str| format!("{}{path}", app.sim.base_url());
    let pro_product = app.sim.events().iter().find_map(|e| {
        (e["type"] == "product.created" && e["data"]["object"]["name"] == "Pro")
            .then(|| e["data"]["object"]["id"].as_str().map(str::to_owned))
            .flatten()
    });
    let pro_product = pro_product.expect("seed product event");
    let renamed = stripe
        .post(api(&format!("/v1/products/{pro_product}")))
        .bearer_auth("sk_test_storefront_tests")
        .form(&[("name", "Pro Plus")])
        .send()
        .await
        .expect("rename");
    assert_eq!(renamed.status(), 200);

    // A new plan whose price event is delivered before its product's.
    app.sim.shuffle_next_events(2);
    let product: serde_json::Value = stripe
        .post(api("/v1/products"))
        .bearer_auth("sk_test_storefront_tests")
        .form(&[
            ("name", "Team"),
            ("metadata[role]", "pro"),
            ("metadata[sort_order]", "3"),
        ])
        .send()
        .await
        .expect("product")
        .json()
        .await
        .expect("json");
    let product_id = product["id"].as_str().expect("id");
    stripe
        .post(api("/v1/prices"))
        .bearer_auth("sk_test_storefront_tests")
        .form(&[
            ("product", product_id),
            ("currency", "usd"),
            ("unit_amount", "9900"),
            ("recurring[interval]", "month"),
        ])
        .send()
        .await
        .expect("price");
    app.sim.release_shuffled();
    app.settle_webhooks().await;
    let html = app.page(&app.browser(), "/pricing").await;
    assert!(html.contains(">Pro Plus</h2>"), "rename shown");
    assert!(
        html.contains(">Team</h2>") && html.contains("$99"),
        "new plan shown"
    );
}

/// A tiny deterministic PRNG (xorshift), so a failing order can be replayed from its seed.
struct Shuffler(u64);

impl Shuffler {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

#[tokio::test]
async fn any_order_with_duplicates_and_concurrency_ends_in_stripes_state() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    // Record a whole life: subscribe, switch plan, cancel at period end. Deliveries fail, so the app
    // has seen none of it; the test delivers the events itself.
    app.sim.fail_next_deliveries(100_000, None);
    let browser = app
        .subscriber("history@example.com", "basic_monthly", CARD_OK)
        .await;
    let customer = sqlx::query_scalar::<_, String>(
        "SELECT stripe_customer_id FROM users WHERE email = 'history@example.com'",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .expect("customer");
    let portal = common::location(
        &app.post_form(&browser, "/api/open_billing_portal", "/dashboard", &[])
            .await,
    );
    let subscription = {
        let list: serde_json::Value = reqwest::Client::new()
            .get(format!(
                "{}/v1/subscriptions?customer={customer}",
                app.sim.base_url()
            ))
            .bearer_auth("sk_test_storefront_tests")
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        list["data"][0]["id"]
            .as_str()
            .expect("subscription")
            .to_owned()
    };
    let portal_client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let pro = app.price("pro_monthly");
    for (action, form) in [
        (
            "switch",
            vec![
                ("subscription", subscription.as_str()),
                ("price", pro.as_str()),
            ],
        ),
        ("cancel", vec![("subscription", subscription.as_str())]),
    ] {
        portal_client
            .post(format!("{portal}/{action}"))
            .form(&form)
            .send()
            .await
            .expect(action);
    }
    app.settle_webhooks().await;
    app.sim.reset_faults();

    let events: Vec<String> = app
        .sim
        .events()
        .into_iter()
        .filter(|e| {
            let object = &e["data"]["object"];
            object["customer"] == customer.as_str() || object["id"] == customer.as_str()
        })
        .map(|e| e.to_string())
        .collect();
    assert!(
        events.len() >= 6,
        "a real history to replay: {} events",
        events.len()
    );

    // What Stripe holds, read from the sim's API: the state every order must end in.
    let stripe_state = {
        let sub: serde_json::Value = reqwest::Client::new()
            .get(format!(
                "{}/v1/subscriptions/{subscription}",
                app.sim.base_url()
            ))
            .bearer_auth("sk_test_storefront_tests")
            .send()
            .await
            .expect("retrieve")
            .json()
            .await
            .expect("json");
        (
            sub["status"].as_str().expect("status").to_owned(),
            sub["cancel_at_period_end"].as_bool().expect("flag"),
            sub["items"]["data"][0]["price"]["id"]
                .as_str()
                .map(str::to_owned),
        )
    };
    assert_eq!(
        stripe_state.2.as_deref(),
        Some(pro.as_str()),
        "the switch happened at Stripe"
    );
    assert!(stripe_state.1, "the cancellation happened at Stripe");
    let stripe_state = (
        stripe_state.0.as_str().to_owned(),
        stripe_state.1,
        stripe_state.2,
    );

    for seed in 1..=6u64 {
        // Forget everything the previous round applied.
        for sql in [
            "DELETE FROM stripe_events",
            "DELETE FROM subscriptions",
            "DELETE FROM invoices",
            "UPDATE users SET role = 'free'",
        ] {
            sqlx::query(sql)
                .execute(&app.state.db.pool)
                .await
                .expect(sql);
        }
        let mut rng = Shuffler(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut deliveries: Vec<&String> = events.iter().collect();
        deliveries.extend(events.iter().filter(|_| rng.next().is_multiple_of(2)));
        rng.shuffle(&mut deliveries);
        // Deliver in bursts of four at once: duplicates race each other.
        for burst in deliveries.chunks(4) {
            let sends = burst.iter().map(|payload| {
                let signature = signed(payload);
                let app = &app;
                async move { deliver(app, payload, Some(&signature)).await }
            });
            for response in futures::future::join_all(sends).await {
                assert!(
                    response.status().is_success(),
                    "seed {seed}: {}",
                    response.status()
                );
            }
        }
        assert_eq!(
            app.role_of("history@example.com").await,
            "pro",
            "seed {seed}"
        );
        let (status, cancel_at_period_end, price) =
            sqlx::query_as::<_, (String, i64, Option<String>)>(
                "SELECT status, cancel_at_period_end, price_id FROM subscriptions WHERE id = $1",
            )
            .bind(&subscription)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("subscription row");
        assert_eq!(
            (status, cancel_at_period_end != 0, price),
            stripe_state.clone(),
            "seed {seed}"
        );
        let recorded = app.count("SELECT COUNT(*) FROM stripe_events").await;
        assert_eq!(
            recorded as usize,
            events.len(),
            "seed {seed}: each event recorded once"
        );
    }
}
