//! Security review L3 and L5: the catalog follows Stripe's, and only catalog changes write it.

use crate::helpers::{CARD_OK, TestApp, deliver, event_json, signed};
use storefront::CustomerId;

async fn active(app: &TestApp, table_and_id: (&str, &str)) -> i64 {
    let sql = match table_and_id.0 {
        "products" => "SELECT active FROM products WHERE id = $1",
        _ => "SELECT active FROM prices WHERE id = $1",
    };
    sqlx::query_scalar::<_, i64>(sql)
        .bind(table_and_id.1)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("catalog row")
}

#[tokio::test]
async fn l3_sync_catalog_deactivates_what_stripe_no_longer_lists() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let pool = &app.state.db.pool;
    sqlx::query(
        "INSERT INTO products (id, name, description, active, role, features, sort_order, livemode, updated_at) \
         VALUES ($1, 'Gone', NULL, 1, 'pro', '[]', 9, 0, 1)",
    )
    .bind("prod_gone1")
    .execute(pool)
    .await
    .expect("product");
    sqlx::query(
        "INSERT INTO prices (id, product_id, active, currency, unit_amount, recurring_interval, \
             interval_count, trial_period_days, lookup_key, livemode, updated_at) \
         VALUES ($1, $2, 1, 'usd', 100, 'month', 1, NULL, NULL, 0, 1)",
    )
    .bind("price_gone2")
    .bind("prod_gone1")
    .execute(pool)
    .await
    .expect("price");

    let output = app.run_cli(&["sync-catalog"]).await;

    assert!(output.status.success(), "{output:?}");
    assert_eq!(active(&app, ("products", "prod_gone1")).await, 0);
    assert_eq!(active(&app, ("prices", "price_gone2")).await, 0);
    let on_sale = app.price_id("pro_monthly");
    assert_eq!(
        active(&app, ("prices", &on_sale)).await,
        1,
        "listed prices stay"
    );
}

#[tokio::test]
async fn l5_customer_syncs_never_overwrite_catalog_rows() {
    let app = TestApp::spawn().await;
    app.subscriber("shared@example.com", "basic_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    let price = app.price_id("basic_monthly");
    // A catalog event archived the price after the customer's sync read it.
    sqlx::query("UPDATE prices SET active = 0, updated_at = 7 WHERE id = $1")
        .bind(&price)
        .execute(&app.state.db.pool)
        .await
        .expect("archive");
    let customer = app.customer_of("shared@example.com").await;

    app.billing
        .sync_customer(&CustomerId::from(customer.as_str()), None)
        .await
        .expect("sync");

    assert_eq!(
        active(&app, ("prices", &price)).await,
        0,
        "not put back on sale"
    );
    let updated_at = sqlx::query_scalar::<_, i64>("SELECT updated_at FROM prices WHERE id = $1")
        .bind(&price)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("price");
    assert_eq!(updated_at, 7, "a customer sync leaves catalog rows alone");
}

/// Security review L5: catalog writers on different instances take turns. A price change whose Stripe
/// read was overtaken by another instance's catalog write reads again instead of writing older data.
#[tokio::test]
async fn l5_a_catalog_change_overtaken_by_another_instance_reads_again() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let price = app.price_id("pro_monthly");
    let payload = event_json(
        "evt_l5_price",
        "price.updated",
        false,
        serde_json::json!({"object": "price", "id": price}),
    );
    let quick = {
        let before = app.sim.api_requests();
        let warm_up = event_json(
            "evt_l5_warm_up",
            "price.updated",
            false,
            serde_json::json!({"object": "price", "id": price}),
        );
        let response = deliver(&app, &warm_up, Some(&signed(&warm_up))).await;
        assert_eq!(response.status(), 200);
        app.sim.api_requests() - before
    };
    let before = app.sim.api_requests();
    // The delivery's first Stripe call is held until the other instance has written: the order of
    // the two is certain, not a matter of timing.
    let gate = app.sim.faults().hold_next_api_call();
    let signature = signed(&payload);
    let delivery = deliver(&app, &payload, Some(&signature));
    let other_instance_writes = async {
        tokio::time::timeout(std::time::Duration::from_secs(20), gate.wait_until_held())
            .await
            .expect("the delivery reads Stripe");
        sqlx::query("UPDATE installation SET catalog_generation = catalog_generation + 1")
            .execute(&app.state.db.pool)
            .await
            .expect("another instance's catalog write");
        gate.release();
    };
    let (response, ()) = tokio::join!(delivery, other_instance_writes);
    assert_eq!(response.status(), 200);
    assert_eq!(
        app.sim.api_requests() - before,
        2 * quick,
        "the overtaken read was thrown away and Stripe read again"
    );
}
