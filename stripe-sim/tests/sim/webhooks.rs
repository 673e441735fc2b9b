//! Webhook delivery: every event type verifies with async-stripe's `construct_event` and parses
//! into its typed object; retries with backoff; timeouts; endpoints managed over the API.

use std::time::Duration;

use serde_json::Value;
use stripe_billing::subscription::UpdateSubscription;
use stripe_core::customer::{DeleteCustomer, UpdateCustomer};
use stripe_product::price::{CreatePrice, UpdatePrice};
use stripe_product::product::{CreateProduct, UpdateProduct};
use stripe_sim::SimConfig;
use stripe_webhook::EventObject;

use crate::common::*;

const ALL_TYPES: [&str; 16] = [
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_failed",
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "product.created",
    "product.updated",
    "price.created",
    "price.updated",
    "checkout.session.expired",
];

/// Does what makes each of `ALL_TYPES` happen; returns the subscription id.
async fn trigger_every_event_type(sim: &stripe_sim::Sim, c: &stripe::Client) -> String {
    let product = CreateProduct::new("Extra").send(c).await.expect("product");
    UpdateProduct::new(product.id.clone())
        .description("changed")
        .send(c)
        .await
        .expect("update product");
    let price = CreatePrice::new(stripe_types::Currency::USD)
        .product(product.id.as_str())
        .unit_amount(100)
        .send(c)
        .await
        .expect("price");
    UpdatePrice::new(price.id.clone())
        .nickname("n")
        .send(c)
        .await
        .expect("update price");
    let (cus, sub) = subscribe(sim, c, "basic_monthly", "4000000000000341", None).await;
    UpdateCustomer::new(cus.as_str())
        .name("Renamed")
        .send(c)
        .await
        .expect("update customer");
    UpdateSubscription::new(sub.as_str())
        .cancel_at_period_end(false)
        .metadata(
            [("k".to_owned(), "v".to_owned())]
                .into_iter()
                .collect::<std::collections::HashMap<_, _>>(),
        )
        .send(c)
        .await
        .expect("update sub");
    let open = session(sim, c, None, "pro_monthly", None).await;
    stripe_checkout::checkout_session::ExpireCheckoutSession::new(open.id.clone())
        .send(c)
        .await
        .expect("expire");
    // Renewal with card 0341 fails; the dunning schedule ends in cancellation.
    sim.advance_clock(Duration::from_secs(40 * 86_400))
        .expect("advance");
    // Another customer, so deleting it leaves the subscription's own cancellation alone.
    let extra = customer(c, "deleted@x.io").await;
    DeleteCustomer::new(extra.id.clone())
        .send(c)
        .await
        .expect("delete customer");
    sub
}

/// Whether the typed object async-stripe parsed is the one in the raw payload.
fn parsed_into_its_type(r: &Received, sub: &str) -> bool {
    let t = r.event.type_.as_str();
    match &r.event.data.object {
        EventObject::CheckoutSessionCompleted(s) | EventObject::CheckoutSessionExpired(s) => {
            s.id.as_str() == r.raw["data"]["object"]["id"]
        }
        EventObject::CustomerSubscriptionCreated(s)
        | EventObject::CustomerSubscriptionUpdated(s)
        | EventObject::CustomerSubscriptionDeleted(s) => {
            s.id.as_str() == sub || t == "customer.subscription.created"
        }
        EventObject::InvoiceCreated(i)
        | EventObject::InvoiceFinalized(i)
        | EventObject::InvoicePaid(i)
        | EventObject::InvoicePaymentFailed(i) => i.id.is_some(),
        EventObject::CustomerCreated(c)
        | EventObject::CustomerUpdated(c)
        | EventObject::CustomerDeleted(c) => c.id.as_str().starts_with("cus_"),
        EventObject::ProductCreated(p) | EventObject::ProductUpdated(p) => {
            p.id.as_str().starts_with("prod_")
        }
        EventObject::PriceCreated(p) | EventObject::PriceUpdated(p) => {
            p.id.as_str().starts_with("price_")
        }
        EventObject::Unknown(_) => false,
        _ => false,
    }
}

#[tokio::test]
async fn every_event_type_is_signed_and_parses() {
    bounded(async {
        let (sim, inbox) = sim_with_hook().await;
        let c = client(&sim);
        let sub = trigger_every_event_type(&sim, &c).await;
        inbox
            .wait_for("all event types", |r| {
                ALL_TYPES
                    .iter()
                    .all(|t| r.iter().any(|e| e.event.type_.as_str() == *t))
            })
            .await;
        assert!(
            inbox.rejected.lock().expect("lock").is_empty(),
            "rejected: {:?}",
            inbox.rejected.lock().expect("lock")
        );
        for r in inbox.received() {
            let t = r.event.type_.as_str().to_owned();
            assert!(
                parsed_into_its_type(&r, &sub),
                "{t} did not parse into its typed object"
            );
            assert_eq!(r.raw["api_version"], stripe_sim::API_VERSION);
            if t.ends_with(".updated") {
                assert!(
                    r.event.data.previous_attributes.is_some(),
                    "{t} has previous_attributes"
                );
            }
        }
        let failed = inbox.wait_for_type("invoice.payment_failed").await;
        assert_eq!(failed.raw["data"]["object"]["status"], "open");
        let deleted = inbox.wait_for_type("customer.subscription.deleted").await;
        assert_eq!(
            deleted.raw["data"]["object"]["cancellation_details"]["reason"],
            "payment_failed"
        );
        // Event `created` comes from the sim clock.
        assert!(deleted.event.created >= sim.now() - 10 * 86_400);
    })
    .await;
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff() {
    bounded(async {
        let (sim, inbox) = sim_with_hook().await;
        let c = client(&sim);
        *inbox.fail_next.lock().expect("lock") = 2;
        let cus = customer(&c, "retry@x.io").await;
        let got = inbox.wait_for_type("customer.created").await;
        assert_eq!(got.raw["data"]["object"]["id"], cus.id.as_str());
        assert!(sim.wait_for_deliveries(Duration::from_secs(10)).await);
        let tries: Vec<_> = sim
            .deliveries()
            .into_iter()
            .filter(|d| d.event_id == got.event.id.as_str())
            .collect();
        assert_eq!(
            tries
                .iter()
                .map(|d| (d.attempt, d.status, d.ok))
                .collect::<Vec<_>>(),
            vec![
                (1, Some(500), false),
                (2, Some(500), false),
                (3, Some(200), true)
            ]
        );
        let gap1 = tries[1].at_ms - tries[0].at_ms;
        let gap2 = tries[2].at_ms - tries[1].at_ms;
        assert!(
            gap1 >= 20 && gap2 >= 40,
            "exponential backoff: {gap1} ms then {gap2} ms"
        );
        assert_eq!(
            inbox
                .ids()
                .iter()
                .filter(|id| *id == got.event.id.as_str())
                .count(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn delivery_gives_up_after_max_attempts_and_times_out_slow_endpoints() {
    bounded(async {
        let cfg = SimConfig {
            webhook_max_attempts: 3,
            webhook_timeout: Duration::from_millis(200),
            ..config()
        };
        let (sim, inbox) = sim_with_hook_config(cfg).await;
        let c = client(&sim);
        *inbox.fail_next.lock().expect("lock") = 100;
        customer(&c, "never@x.io").await;
        assert!(sim.wait_for_deliveries(Duration::from_secs(10)).await);
        let tries: Vec<_> = sim
            .deliveries()
            .into_iter()
            .filter(|d| d.event_type == "customer.created")
            .collect();
        assert_eq!(tries.len(), 3, "bounded attempts");
        assert!(tries.iter().all(|d| !d.ok));

        *inbox.fail_next.lock().expect("lock") = 0;
        *inbox.delay.lock().expect("lock") = Duration::from_millis(600);
        *inbox.delay_next.lock().expect("lock") = 1;
        let slow = customer(&c, "slow@x.io").await;
        assert!(sim.wait_for_deliveries(Duration::from_secs(10)).await);
        inbox
            .wait_for("slow customer", |r| {
                r.iter()
                    .any(|e| e.raw["data"]["object"]["id"] == slow.id.as_str())
            })
            .await;
        let tries: Vec<_> = sim
            .deliveries()
            .into_iter()
            .filter(|d| d.event_type == "customer.created")
            .skip(3)
            .collect();
        assert_eq!(tries[0].error.as_deref(), Some("timed out"));
        assert!(tries.iter().any(|d| d.ok), "retried after the timeout");
    })
    .await;
}

/// Creates an endpoint for three event types over the API; returns its JSON.
async fn create_endpoint(http: &reqwest::Client, base: &str, url: &str) -> Value {
    let resp = http
        .post(format!("{base}/v1/webhook_endpoints"))
        .bearer_auth(KEY)
        .form(&[
            ("url", url),
            ("enabled_events[]", "product.created"),
            ("enabled_events[]", "price.created"),
            ("enabled_events[]", "customer.created"),
        ])
        .send()
        .await
        .expect("create");
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("json")
}

#[tokio::test]
async fn webhook_endpoints_api_and_seed_replay() {
    bounded(async {
        let sim = sim().await;
        let (url, inbox) = receiver().await;
        let http = http();
        let base = sim.base_url();
        let ep = create_endpoint(&http, base, &url).await;
        let secret = ep["secret"].as_str().expect("secret").to_owned();
        assert!(secret.starts_with("whsec_"));
        *inbox.secret.lock().expect("lock") = secret;
        // The seed catalog is announced to the new endpoint (6 products, 10 prices).
        inbox
            .wait_for("seed events", |r| r.len() >= SEED_EVENTS)
            .await;
        let mut types = inbox.types();
        types.sort();
        assert_eq!(types.iter().filter(|t| *t == "product.created").count(), 6);
        assert_eq!(types.iter().filter(|t| *t == "price.created").count(), 10);

        let list = api_get(&http, base, "/v1/webhook_endpoints").await;
        assert_eq!(list["data"][0]["id"], ep["id"]);
        assert!(
            list["data"][0].get("secret").is_none(),
            "secret only shown at creation"
        );
        let deliveries: Value = http
            .get(format!("{base}/_sim/webhooks/deliveries"))
            .send()
            .await
            .expect("deliveries")
            .json()
            .await
            .expect("json");
        assert!(
            deliveries["data"]
                .as_array()
                .is_some_and(|d| d.len() >= SEED_EVENTS)
        );

        let del: Value = http
            .delete(format!(
                "{base}/v1/webhook_endpoints/{}",
                ep["id"].as_str().expect("id")
            ))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("delete")
            .json()
            .await
            .expect("json");
        assert_eq!(del["deleted"], true);
        let before = inbox.received().len();
        customer(&client(&sim), "after@x.io").await;
        assert!(sim.wait_for_deliveries(Duration::from_secs(5)).await);
        assert_eq!(
            inbox.received().len(),
            before,
            "deleted endpoints receive nothing"
        );
    })
    .await;
}

#[tokio::test]
async fn seed_replay_can_be_switched_off() {
    bounded(async {
        let (url, inbox) = receiver().await;
        let sim = stripe_sim::Sim::start(SimConfig {
            webhook_url: Some(url),
            webhook_secret: Some(SECRET.to_owned()),
            replay_seed_events: false,
            ..config()
        })
        .await
        .expect("sim starts");
        let (later_url, later_inbox) = receiver().await;
        sim.add_webhook_endpoint(&later_url, Some(SECRET));
        customer(&client(&sim), "quiet@x.io").await;
        inbox.wait_for_type("customer.created").await;
        later_inbox.wait_for_type("customer.created").await;
        assert!(sim.wait_for_deliveries(Duration::from_secs(5)).await);
        assert_eq!(
            inbox.types(),
            ["customer.created"],
            "no seed events at start"
        );
        assert_eq!(later_inbox.types(), ["customer.created"], "nor when added");
        assert_eq!(
            sim.events().len(),
            SEED_EVENTS + 1,
            "the seed events are still recorded"
        );
    })
    .await;
}
