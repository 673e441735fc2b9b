//! The API gate fault: `Sim::faults().hold_next_api_call()` holds `/v1` calls until the test
//! releases them, so a test can put a change between "the call arrived" and "it was answered"
//! without sleeping.

use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;
use tokio::time::timeout;

use crate::common::*;

/// `GET {base}{path}` with the secret key on its own task; (status, JSON body).
fn spawn_get(base: &str, path: &str) -> JoinHandle<(u16, Value)> {
    let url = format!("{base}{path}");
    tokio::spawn(async move {
        let resp = http().get(url).bearer_auth(KEY).send().await.expect("get");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("json"))
    })
}

async fn until_held(gate: &stripe_sim::ApiGate) {
    timeout(Duration::from_secs(10), gate.wait_until_held())
        .await
        .expect("a call reached the gate");
}

#[tokio::test]
async fn a_held_call_is_answered_after_what_the_test_did_meanwhile() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url().to_owned();
        let cus = customer(&client(&sim), "gate@x.io").await.id.to_string();
        let gate = sim.faults().hold_next_api_call();
        assert!(!sim.faults().is_clear());
        let held = spawn_get(&base, &format!("/v1/customers/{cus}"));
        until_held(&gate).await;
        assert_eq!(gate.held(), 1);
        let shown = sim.faults().snapshot();
        assert_eq!(
            shown["api_gates"],
            serde_json::json!({"to_hold": 0, "held": 1})
        );

        // Only one call is held: the next one goes through at once.
        let others = api_get(&http(), &base, "/v1/customers").await;
        assert_eq!(others["object"], "list");
        sim.act().delete_customer(&cus).expect("deleted meanwhile");
        assert!(!held.is_finished(), "still held");

        gate.release();
        let (status, body) = held.await.expect("joined");
        assert_eq!(status, 200);
        assert_eq!(body["deleted"], true, "answered after the deletion: {body}");
        assert!(sim.faults().is_clear(), "a released gate is no switch");
    })
    .await;
}

#[tokio::test]
async fn reset_and_drop_release_held_calls() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url().to_owned();
        let gate = sim.faults().hold_next_api_calls(2);
        let first = spawn_get(&base, "/v1/customers");
        let second = spawn_get(&base, "/v1/products");
        until_held(&gate).await;
        assert_eq!(gate.held(), 2);
        sim.faults().reset();
        assert_eq!(first.await.expect("joined").0, 200);
        assert_eq!(second.await.expect("joined").0, 200);
        assert!(sim.faults().is_clear());

        // A released call then meets the other switches, as if it arrived at the release.
        let gate = sim.faults().hold_next_api_call();
        let third = spawn_get(&base, "/v1/customers");
        until_held(&gate).await;
        sim.faults().fail_next_api_calls(1, 503);
        drop(gate);
        assert_eq!(third.await.expect("joined").0, 503);
    })
    .await;
}

#[tokio::test]
async fn waiting_on_a_released_gate_returns_at_once() {
    bounded(async {
        let sim = sim().await;
        let gate = sim.faults().hold_next_api_calls(3);
        gate.release();
        until_held(&gate).await;
        assert_eq!(gate.held(), 0);
        let answered = api_get(&http(), sim.base_url(), "/v1/customers").await;
        assert_eq!(answered["object"], "list", "a released gate holds nothing");
    })
    .await;
}
