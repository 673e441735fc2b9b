//! Checking out a cart (signed in; guests in `guests.rs`): the order and its reservation, the Checkout Session Stripe
//! gets, reuse on a double click, the race for the last item, and Stripe failing midway.

use crate::helpers::{CARD_OK, TestApp, form_error, location};

#[tokio::test]
async fn checkout_creates_an_order_reserves_stock_and_a_payment_session() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("buyer@example.com").await;
    let session = app
        .buy(&buyer, &[("goods_mug", 2), ("goods_stickers", 1)])
        .await;
    let order = app.order_of_session(&session).await;
    assert_eq!(order.status, "pending");
    assert_eq!(app.stock_of("mug").await, (25, 2), "two mugs held");
    assert_eq!(app.stock_of("stickers").await, (100, 1));

    let stripe = app
        .stripe_get(&format!("/v1/checkout/sessions/{session}"))
        .await;
    assert_eq!(stripe["mode"], "payment");
    assert_eq!(
        stripe["amount_subtotal"],
        2 * 1400 + 500,
        "amounts from our catalog"
    );
    // The mugs go by post: standard shipping ($5, under the $50 threshold) until the buyer
    // chooses; without STRIPE_TAX no tax.
    assert_eq!(stripe["amount_total"], 2 * 1400 + 500 + 500);
    assert_eq!(stripe["client_reference_id"], order.id.to_string());
    let tag = stripe["metadata"]["storefront_order"]
        .as_str()
        .expect("order tag");
    assert!(tag.ends_with(&format!(":{}", order.id)), "{tag}");
    assert_eq!(
        stripe["customer"],
        app.customer_of("buyer@example.com").await
    );
    let expires_in = stripe["expires_at"].as_i64().expect("expires_at")
        - stripe["created"].as_i64().expect("created");
    assert!(
        (30 * 60..=32 * 60).contains(&expires_in),
        "about 30 minutes: {expires_in}"
    );
    let lines = app
        .stripe_get(&format!("/v1/checkout/sessions/{session}/line_items"))
        .await;
    let quantities: Vec<i64> = lines["data"]
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(|l| l["quantity"].as_i64())
        .collect();
    assert_eq!(quantities.iter().sum::<i64>(), 3, "{lines}");

    // A second click on "Check out" for the same cart: the same session, nothing more held.
    let again = app.checkout_cart(&buyer).await;
    assert_eq!(app.session_of_checkout_url(&location(&again)), session);
    assert_eq!(app.stock_of("mug").await, (25, 2));
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);
}

#[tokio::test]
async fn twenty_buyers_race_for_the_last_poster_and_exactly_one_may_pay() {
    let app = TestApp::spawn_with(&[("TRUSTED_PROXIES", "127.0.0.0/8")]).await;
    app.settle_webhooks().await;
    let mut buyers = Vec::new();
    for n in 0..20 {
        let browser = app
            .new_user_from(&format!("racer{n}@example.com"), &format!("10.0.{n}.1"))
            .await;
        app.add_to_cart(&browser, "goods_poster", 1).await;
        buyers.push(browser);
    }
    let started = std::time::Instant::now();
    let answers = futures::future::join_all(buyers.iter().map(|b| app.checkout_cart(b))).await;
    let elapsed = started.elapsed();
    let mut sessions = 0;
    let mut refusals = 0;
    for answer in &answers {
        let to = location(answer);
        if to.starts_with(&app.stripe_url("/checkout/")) {
            sessions += 1;
        } else {
            assert_eq!(
                form_error(&to).as_deref(),
                Some("Sorry, that item is sold out."),
                "{to}"
            );
            refusals += 1;
        }
    }
    println!("race: 20 checkouts in {elapsed:?}: {sessions} session, {refusals} refusals");
    assert_eq!((sessions, refusals), (1, 19));
    assert_eq!(app.stock_of("poster").await, (1, 1));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM orders WHERE status = 'pending'")
            .await,
        1
    );
}

#[tokio::test]
async fn stripe_failing_at_checkout_gives_the_stock_back() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("unlucky@example.com").await;
    // A first purchase creates the Stripe customer, so only the next session call meets the outage.
    let first = app.buy(&buyer, &[("goods_stickers", 1)]).await;
    app.pay(&first, CARD_OK);
    app.settle_webhooks().await;
    app.post_form(&buyer, "/api/cart_clear", "/cart", &[]).await;
    app.add_to_cart(&buyer, "goods_hoodie", 2).await;
    app.sim.faults().fail_next_api_calls(100, 503);
    let refused = app.checkout_cart(&buyer).await;
    assert!(refused.status().is_redirection());
    let message = form_error(&location(&refused)).unwrap_or_default();
    assert!(message.contains("payment provider"), "{message}");
    app.sim.faults().reset();
    assert_eq!(app.stock_of("hoodie").await, (10, 0), "nothing stays held");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM orders WHERE status = 'failed'")
            .await,
        1
    );
    // And the cart can be checked out once Stripe is back.
    let response = app.checkout_cart(&buyer).await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.stock_of("hoodie").await, (10, 2));
}

/// Security review 2, L7: a customer deleted in Stripe's dashboard (its webhook lost) made every
/// checkout of the buyer answer 502 until billing noticed. The shop now buys as a new customer.
#[tokio::test]
async fn l7_a_customer_deleted_in_stripe_can_still_buy() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("deleted-buyer@example.com").await;
    let first = app.buy(&buyer, &[("goods_mug", 1)]).await;
    app.pay(&first, CARD_OK);
    app.settle_webhooks().await;
    let old_customer = app.customer_of("deleted-buyer@example.com").await;
    app.sim.faults().fail_next_deliveries(10_000, None);
    app.sim
        .act()
        .delete_customer(&old_customer)
        .expect("deleted");
    app.post_form(&buyer, "/api/cart_clear", "/cart", &[]).await;
    app.add_to_cart(&buyer, "goods_stickers", 1).await;
    let again = app.checkout_cart(&buyer).await;
    assert_eq!(again.status(), 303, "{}", location(&again));
    assert_ne!(
        app.customer_of("deleted-buyer@example.com").await,
        old_customer
    );
    assert_eq!(
        app.stock_of("stickers").await,
        (100, 1),
        "the new order holds its item"
    );
    app.sim.faults().reset();
}
