//! Security review L3 and L13: deleted prices, and events about customers that are not ours.

use super::times_recorded;
use crate::helpers::{TestApp, deliver, event_json, signed};

#[tokio::test]
async fn l3_price_deleted_marks_the_price_inactive_and_answers_200() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let live_price = app.price_id("pro_monthly");
    // A price we had on sale that Stripe no longer has.
    sqlx::query(
        "INSERT INTO prices (id, product_id, active, currency, unit_amount, recurring_interval, \
             interval_count, trial_period_days, lookup_key, livemode, updated_at) \
         SELECT $1, product_id, 1, currency, unit_amount, recurring_interval, interval_count, \
             trial_period_days, NULL, livemode, updated_at FROM prices WHERE id = $2",
    )
    .bind("price_gone1")
    .bind(&live_price)
    .execute(&app.state.db.pool)
    .await
    .expect("insert price");
    let mut object = app.stripe_get(&format!("/v1/prices/{live_price}")).await;
    object["id"] = "price_gone1".into();
    object["lookup_key"] = serde_json::Value::Null;
    let payload = event_json("evt_price_gone", "price.deleted", false, object);

    let response = deliver(&app, &payload, Some(&signed(&payload))).await;

    assert_eq!(response.status(), 200, "no 5xx for three days of retries");
    let active = sqlx::query_scalar::<_, i64>("SELECT active FROM prices WHERE id = $1")
        .bind("price_gone1")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("price row");
    assert_eq!(active, 0, "the deleted price is no longer on sale");
    assert_eq!(times_recorded(&app, "evt_price_gone").await, 1);
}

#[tokio::test]
async fn l13_events_for_customers_not_ours_cost_no_stripe_call() {
    let app = TestApp::spawn().await;
    // Another system on the same Stripe account creates a customer.
    let stranger = app
        .stripe_api(reqwest::Method::POST, "/v1/customers")
        .form(&[("email", "someone@elsewhere.example")])
        .send()
        .await
        .expect("create customer")
        .json::<serde_json::Value>()
        .await
        .expect("json");
    app.settle_webhooks().await;
    let before = app.sim.api_requests();
    let payload = event_json("evt_stranger", "customer.updated", false, stranger);

    let response = deliver(&app, &payload, Some(&signed(&payload))).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.expect("body"), "unknown customer");
    assert_eq!(
        app.sim.api_requests(),
        before,
        "no Stripe read for a stranger"
    );
    assert_eq!(times_recorded(&app, "evt_stranger").await, 1);
}

/// Security review 2, L8: every payment event that was no order's cost a Stripe read (a renewal's
/// `payment_intent.succeeded` and `charge.succeeded`, another system's payments). Now the intent's own
/// metadata decides, and a charge is read only when its customer is one of our buyers.
#[tokio::test]
async fn l8_payment_events_that_are_no_orders_cost_no_stripe_read() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let stranger_intent = app
        .stripe_api(reqwest::Method::POST, "/v1/payment_intents")
        .form(&[
            ("amount", "1200"),
            ("currency", "usd"),
            ("payment_method_types[]", "card"),
        ])
        .send()
        .await
        .expect("create intent")
        .json::<serde_json::Value>()
        .await
        .expect("json");
    let intent_id = stranger_intent["id"].as_str().expect("id").to_owned();
    let charge = serde_json::json!({
        "id": "ch_stranger", "object": "charge", "payment_intent": intent_id,
        "customer": "cus_someone_elses", "amount": 1200, "currency": "usd", "metadata": {}
    });
    app.settle_webhooks().await;
    let before = app.sim.api_requests();
    for (id, kind, object) in [
        (
            "evt_pi_stranger",
            "payment_intent.succeeded",
            stranger_intent.clone(),
        ),
        ("evt_ch_stranger", "charge.succeeded", charge),
    ] {
        let payload = event_json(id, kind, false, object);
        let response = deliver(&app, &payload, Some(&signed(&payload))).await;
        assert_eq!(response.status(), 200, "{kind}");
        assert_eq!(times_recorded(&app, id).await, 1, "{kind} recorded");
    }
    assert_eq!(
        app.sim.api_requests(),
        before,
        "no Stripe read for payments not ours"
    );
}
