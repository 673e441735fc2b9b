//! Exactly-once application in any order: duplicates, reordering, concurrency, and failed deliveries
//! that Stripe retries.

use super::{events_recorded, times_recorded};
use crate::helpers::{
    CARD_OK, TestApp, deliver, deliver_in_bursts, portal_cancel, portal_switch, signed,
};
use reqwest::Method;
use std::collections::HashSet;

#[tokio::test]
async fn duplicated_and_reordered_deliveries_end_in_stripes_state() {
    let app = TestApp::builder().seed_events().start().await;
    app.settle_webhooks().await;
    app.sim.faults().duplicate_next_events(200);
    app.sim.faults().shuffle_next_events(200);
    let browser = app
        .subscriber("chaos@example.com", "basic_monthly", CARD_OK)
        .await;
    // Switch plans while deliveries are held back and shuffled.
    let portal = app.open_portal(&browser).await;
    let subscription = app.synced_subscription_of("chaos@example.com").await;
    let pro = app.price_id("pro_monthly");
    portal_switch(&portal, &subscription, &pro).await;
    app.sim.faults().release_shuffled();
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

#[tokio::test]
async fn a_failure_answers_5xx_records_nothing_and_the_retry_applies() {
    let app = TestApp::spawn().await;
    app.sim.faults().fail_next_deliveries(1000, None);
    app.subscriber("retry@example.com", "basic_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    app.sim.faults().reset();
    let event = app
        .sim
        .events()
        .into_iter()
        .find(|e| e["type"] == "customer.subscription.created")
        .expect("subscription event");
    let payload = event.to_string();
    let id = event["id"].as_str().expect("id").to_owned();

    app.sim.faults().fail_next_api_calls(100, 500);
    let failed = deliver(&app, &payload, Some(&signed(&payload))).await;
    assert!(failed.status().is_server_error(), "{}", failed.status());
    assert_eq!(times_recorded(&app, &id).await, 0);
    assert_eq!(app.role_of("retry@example.com").await, "free");

    app.sim.faults().reset();
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
    let pro_product = app.sim.events().iter().find_map(|e| {
        (e["type"] == "product.created" && e["data"]["object"]["name"] == "Pro")
            .then(|| e["data"]["object"]["id"].as_str().map(str::to_owned))
            .flatten()
    });
    let pro_product = pro_product.expect("seed product event");
    let renamed = app
        .stripe_api(Method::POST, &format!("/v1/products/{pro_product}"))
        .form(&[("name", "Pro Plus")])
        .send()
        .await
        .expect("rename");
    assert_eq!(renamed.status(), 200);

    // A new plan whose price event is delivered before its product's.
    app.sim.faults().shuffle_next_events(2);
    let product: serde_json::Value = app
        .stripe_api(Method::POST, "/v1/products")
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
    app.stripe_api(Method::POST, "/v1/prices")
        .form(&[
            ("product", product_id),
            ("currency", "usd"),
            ("unit_amount", "9900"),
            ("recurring[interval]", "month"),
        ])
        .send()
        .await
        .expect("price");
    app.sim.faults().release_shuffled();
    app.settle_webhooks().await;
    let html = app.page(&app.browser(), "/pricing").await;
    assert!(html.contains(">Pro Plus</h2>"), "rename shown");
    assert!(
        html.contains(">Team</h2>") && html.contains("$99"),
        "new plan shown"
    );
}

/// A subscription's (status, cancel_at_period_end, price id).
type SubscriptionState = (String, bool, Option<String>);

/// A customer's subscription life as Stripe recorded it, none of it delivered to the app.
struct History {
    subscription: String,
    pro_price: String,
    /// The customer's events, as Stripe sends them.
    events: Vec<String>,
}

/// Records a whole life: subscribe, switch plan, cancel at period end. Deliveries fail, so the app
/// has seen none of it; the test delivers the events itself.
async fn record_history(app: &TestApp, email: &str) -> History {
    app.sim.faults().fail_next_deliveries(100_000, None);
    let browser = app.subscriber(email, "basic_monthly", CARD_OK).await;
    let customer = app.customer_of(email).await;
    let portal = app.open_portal(&browser).await;
    let list = app
        .stripe_get(&format!("/v1/subscriptions?customer={customer}"))
        .await;
    let subscription = list["data"][0]["id"]
        .as_str()
        .expect("subscription")
        .to_owned();
    let pro_price = app.price_id("pro_monthly");
    portal_switch(&portal, &subscription, &pro_price).await;
    portal_cancel(&portal, &subscription).await;
    app.settle_webhooks().await;
    app.sim.faults().reset();

    let events = app
        .sim
        .events()
        .into_iter()
        .filter(|e| {
            let object = &e["data"]["object"];
            object["customer"] == customer.as_str() || object["id"] == customer.as_str()
        })
        .map(|e| e.to_string())
        .collect();
    History {
        subscription,
        pro_price,
        events,
    }
}

/// What Stripe holds, read from the sim's API.
async fn stripe_subscription_state(app: &TestApp, subscription: &str) -> SubscriptionState {
    let sub = app
        .stripe_get(&format!("/v1/subscriptions/{subscription}"))
        .await;
    (
        sub["status"].as_str().expect("status").to_owned(),
        sub["cancel_at_period_end"].as_bool().expect("flag"),
        sub["items"]["data"][0]["price"]["id"]
            .as_str()
            .map(str::to_owned),
    )
}

/// What the app stored.
async fn app_subscription_state(app: &TestApp, subscription: &str) -> SubscriptionState {
    let (status, cancel_at_period_end, price) = sqlx::query_as::<_, (String, i64, Option<String>)>(
        "SELECT status, cancel_at_period_end, price_id FROM subscriptions WHERE id = $1",
    )
    .bind(subscription)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("subscription row");
    (status, cancel_at_period_end != 0, price)
}

/// Forgets every webhook the app applied.
async fn reset_billing_tables(app: &TestApp) {
    for sql in [
        "DELETE FROM stripe_events",
        "DELETE FROM subscriptions",
        "DELETE FROM invoices",
        // Also when the state was last read: a replayed event older than that read is taken as seen.
        "UPDATE users SET role = 'free', access_until = NULL, billing_synced_at = NULL",
    ] {
        sqlx::query(sql)
            .execute(&app.state.db.pool)
            .await
            .expect(sql);
    }
}

#[tokio::test]
async fn any_order_with_duplicates_and_concurrency_ends_in_stripes_state() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let history = record_history(&app, "history@example.com").await;
    assert!(
        history.events.len() >= 6,
        "a real history to replay: {} events",
        history.events.len()
    );

    // The state every order must end in.
    let stripe_state = stripe_subscription_state(&app, &history.subscription).await;
    assert_eq!(
        stripe_state.2.as_deref(),
        Some(history.pro_price.as_str()),
        "the switch happened at Stripe"
    );
    assert!(stripe_state.1, "the cancellation happened at Stripe");

    for seed in 1..=6u64 {
        // Forget everything the previous round applied.
        reset_billing_tables(&app).await;
        deliver_in_bursts(&app, &history.events, seed).await;
        assert_eq!(
            app.role_of("history@example.com").await,
            "pro",
            "seed {seed}"
        );
        assert_eq!(
            app_subscription_state(&app, &history.subscription).await,
            stripe_state,
            "seed {seed}"
        );
        let recorded = events_recorded(&app).await;
        assert_eq!(
            recorded as usize,
            history.events.len(),
            "seed {seed}: each event recorded once"
        );
    }
}

/// Security review L4/M3: a sync whose Stripe read was overtaken by another writer (another instance,
/// or `storefront resync` next to a SQLite server) does not write its older read; it reads again.
#[tokio::test]
async fn l4_a_sync_overtaken_while_reading_stripe_reads_again_before_writing() {
    let app = TestApp::spawn().await;
    app.subscriber("overtaken@example.com", "basic_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    let customer =
        storefront::CustomerId::from(app.customer_of("overtaken@example.com").await.as_str());
    let calls_per_read = {
        let before = app.sim.api_requests();
        app.billing
            .sync_customer(&customer, None)
            .await
            .expect("sync");
        app.sim.api_requests() - before
    };
    let before = app.sim.api_requests();
    // The sync's first Stripe call is held until the other writer has committed.
    let gate = app.sim.faults().hold_next_api_call();
    let billing = app.billing.clone();
    let slow_sync = tokio::spawn(async move { billing.sync_customer(&customer, None).await });
    tokio::time::timeout(std::time::Duration::from_secs(20), gate.wait_until_held())
        .await
        .expect("the sync reads Stripe");
    // While the sync waits on Stripe, another writer commits (what a newer sync's write does).
    sqlx::query(
        "UPDATE users SET billing_generation = billing_generation + 1, role = 'pro' \
         WHERE email = 'overtaken@example.com'",
    )
    .execute(&app.state.db.pool)
    .await
    .expect("concurrent write");
    gate.release();
    slow_sync.await.expect("task").expect("sync");
    assert_eq!(
        app.sim.api_requests() - before,
        2 * calls_per_read,
        "the overtaken read was thrown away and Stripe read again"
    );
    assert_eq!(
        app.role_of("overtaken@example.com").await,
        "basic",
        "the final write is Stripe's state, read after the other write"
    );
}
