//! Security review 2, M1: sessions across instances behind a load balancer without sticky sessions.
//! A sign-out cannot be undone by a save on another instance, and a cart changed on one instance is
//! what the other charges.

use crate::helpers::{CARD_OK, TestApp, eventually, signed_in_cookie, signed_in_on};
use std::time::Duration;

#[tokio::test]
async fn m1_a_save_racing_a_sign_out_does_not_bring_the_session_back() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let email = "stolen-cookie@example.com";
    let cookie = signed_in_cookie(&app, email).await;
    assert!(
        signed_in_on(&other, &cookie, email).await,
        "cached on the other instance"
    );
    let price = app.price_id("goods_mug");
    let cart_change = |instance: &TestApp| {
        reqwest::Client::new()
            .post(instance.url("/api/cart_add"))
            .header("cookie", &cookie)
            .header("origin", app.state.config.app_origin())
            .form(&[("price_id", price.as_str()), ("quantity", "1")])
            .send()
    };
    // The holder of the cookie keeps changing the cart on the other instance while the owner signs
    // out on the first. Before: the other instance's save upserted the deleted row, signed in again.
    let (_, signed_out, _) = tokio::join!(
        cart_change(&other),
        reqwest::Client::new()
            .post(app.url("/api/logout"))
            .header("cookie", &cookie)
            .header("origin", app.state.config.app_origin())
            .send(),
        async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            cart_change(&other).await
        }
    );
    assert!(signed_out.expect("sign out").status().is_success());
    for _ in 0..3 {
        let _ = cart_change(&other).await;
    }
    eventually(
        Duration::from_secs(3),
        "the session is signed out everywhere",
        || async {
            !signed_in_on(&app, &cookie, email).await && !signed_in_on(&other, &cookie, email).await
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !signed_in_on(&app, &cookie, email).await,
        "and stays signed out"
    );
    let rows = app
        .count("SELECT COUNT(*) FROM users WHERE email = 'stolen-cookie@example.com'")
        .await;
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn m1_a_cart_changed_on_one_instance_is_what_the_other_charges() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("alternating@example.com").await;
    // Requests alternate between the instances, as behind a plain load balancer.
    let cached = other.get(&buyer, "/dashboard").await;
    assert_eq!(cached.status(), 200);
    app.add_to_cart(&buyer, "goods_mug", 1).await;
    other.add_to_cart(&buyer, "goods_poster", 1).await;
    app.add_to_cart(&buyer, "goods_stickers", 2).await;
    let checkout = other.checkout_cart(&buyer).await;
    assert_eq!(checkout.status(), 303);
    let session = other.session_of_checkout_url(&crate::helpers::location(&checkout));
    let order = app.order_of_session(&session).await;
    let lines: Vec<(String, i64)> = sqlx::query_as(
        "SELECT p.slug, i.quantity FROM order_items i JOIN products p ON p.id = i.product_id \
         WHERE i.order_id = $1 ORDER BY p.slug",
    )
    .bind(order.id)
    .fetch_all(&app.state.db.pool)
    .await
    .expect("lines");
    // Before: the other instance's stale copy of the session charged the poster alone.
    assert_eq!(
        lines,
        [
            ("mug".to_owned(), 1),
            ("poster".to_owned(), 1),
            ("stickers".to_owned(), 2)
        ]
    );
    app.pay(&session, CARD_OK);
}
