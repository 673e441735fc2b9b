//! Security review 2, M2, H2, L5, L9: a cart is paid once, a buyer holds one open order, and the
//! order page empties only the cart its own paid order was made from.

use crate::helpers::{CARD_OK, TestApp, cart_count, form_error, location, testid_text};

/// The paid order's number as the cart page links to it (`data-testid="cart-bought"`).
fn bought_link(page: &str) -> Option<String> {
    let start = page.find("data-testid=\"cart-bought\"")?;
    let link = &page[start..];
    let href = link.find("href=\"/shop/orders/")? + "href=\"/shop/orders/".len();
    Some(link[href..].split('"').next()?.to_owned())
}

#[tokio::test]
async fn m2_a_paid_cart_is_not_sold_again_after_its_webhook() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("twice@example.com").await;
    app.fill_cart(&buyer, &[("goods_mug", 1)]).await;
    let answer = app.pay_answer(&buyer).await;
    app.sim
        .act()
        .confirm_intent(answer.intent(), CARD_OK)
        .expect("paid");
    // The webhook marks the order paid; the buyer's tab closed before the order page.
    app.settle_webhooks().await;
    assert_eq!(app.order(answer.order_id).await.status, "paid");
    // Before: "Check out" opened a new Checkout Session for the same cart (a second charge).
    let again = app.checkout_cart(&buyer).await;
    assert_eq!(
        form_error(&location(&again)).as_deref(),
        Some(CART_ALREADY_PAID),
        "{}",
        location(&again)
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM orders").await,
        1,
        "no second order"
    );
    let cart = app.get(&buyer, "/cart").await.text().await.expect("page");
    assert_eq!(cart_count(&cart), Some(0), "the cart is empty");
    assert_eq!(
        bought_link(&cart),
        Some(answer.order_id.to_string()),
        "and names the order"
    );
    assert_eq!(app.stock_of("mug").await, (24, 0), "sold once");
}

#[tokio::test]
async fn m2_the_buyers_next_request_empties_a_cart_paid_elsewhere() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("elsewhere@example.com").await;
    app.fill_cart(&buyer, &[("goods_stickers", 2)]).await;
    let session = app.buy(&buyer, &[]).await;
    app.pay(&session, CARD_OK);
    app.settle_webhooks().await;
    // Any page: the header's count is already 0, and pay-on-page refuses the bought cart.
    let shop = app.get(&buyer, "/shop").await.text().await.expect("page");
    assert_eq!(cart_count(&shop), Some(0));
    let pay = app.pay_cart(&buyer, &[]).await;
    assert_eq!(pay.status(), 409);
    assert!(pay.text().await.expect("body").contains(CART_ALREADY_PAID));
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);
}

#[tokio::test]
async fn l5_the_order_page_empties_only_the_cart_of_its_own_paid_order() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("l5@example.com").await;
    let session = app.buy(&buyer, &[("goods_mug", 1)]).await;
    let order = app.order_of_session(&session).await;
    // A link with a made-up session id (any site can send the buyer one): the cart stays.
    let page = app
        .get(
            &buyer,
            &format!("/shop/orders/{}?session_id=cs_test_made_up", order.id),
        )
        .await
        .text()
        .await
        .expect("page");
    assert_eq!(testid_text(&page, "order-status"), Some("Awaiting payment"));
    let cart = app.get(&buyer, "/cart").await.text().await.expect("page");
    assert_eq!(cart_count(&cart), Some(1), "not emptied by an unpaid order");
    // Back from paying it: now the cart is bought.
    app.pay(&session, CARD_OK);
    let paid = app
        .get(
            &buyer,
            &format!("/shop/orders/{}?session_id={session}", order.id),
        )
        .await
        .text()
        .await
        .expect("page");
    assert_eq!(testid_text(&paid, "order-status"), Some("Paid"));
    let cart = app.get(&buyer, "/cart").await.text().await.expect("page");
    assert_eq!(cart_count(&cart), Some(0), "emptied by its paid order");
}

#[tokio::test]
async fn h2_a_new_checkout_ends_the_buyers_previous_unpaid_order() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("hoarder@example.com").await;
    // Before: three carts that differed in quantity held 10 + 9 + 6 mugs at once.
    let mut sessions = Vec::new();
    for quantity in ["10", "9", "6"] {
        let price = app.price_id("goods_mug");
        app.post_form(
            &buyer,
            "/api/cart_update",
            "/cart",
            &[("price_id", price.as_str()), ("quantity", quantity)],
        )
        .await;
        let checkout = app.checkout_cart(&buyer).await;
        assert_eq!(checkout.status(), 303, "{}", location(&checkout));
        sessions.push(app.session_of_checkout_url(&location(&checkout)));
    }
    assert_eq!(app.stock_of("mug").await, (25, 6), "one order's worth held");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM orders WHERE status = 'pending'")
            .await,
        1
    );
    for ended in &sessions[..2] {
        let at_stripe = app
            .stripe_get(&format!("/v1/checkout/sessions/{ended}"))
            .await;
        assert_eq!(
            at_stripe["status"], "expired",
            "{ended} can no longer be paid"
        );
        assert_eq!(app.order_of_session(ended).await.status, "expired");
    }
    // Paying on our page ends the open hosted checkout too.
    let answer = app.pay_answer(&buyer).await;
    assert_eq!(app.order_of_session(&sessions[2]).await.status, "expired");
    assert_eq!(app.order(answer.order_id).await.status, "pending");
    assert_eq!(app.stock_of("mug").await, (25, 6));
}

#[tokio::test]
async fn l9_a_double_submit_of_checkout_gives_one_order() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("double@example.com").await;
    app.fill_cart(&buyer, &[("goods_poster", 1)]).await;
    // Two clicks on the form without JavaScript, at once: both land on the same Checkout.
    let (first, second) = tokio::join!(app.checkout_cart(&buyer), app.checkout_cart(&buyer));
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (303, 303)
    );
    assert_eq!(location(&first), location(&second));
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(app.stock_of("poster").await, (1, 1));
}

/// The shop's message, as the buyer reads it.
const CART_ALREADY_PAID: &str = "This cart has already been paid. Your order is on your dashboard.";

#[tokio::test]
async fn l1_paying_on_our_page_charges_the_cart_the_page_showed_or_nothing() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("two-tabs@example.com").await;
    app.fill_cart(&buyer, &[("goods_stickers", 1)]).await;
    let shown = app.shown_cart_version(&buyer).await;
    assert!(!shown.is_empty(), "the pay page carries the cart's version");
    // Another tab adds nine more; this tab's Pay still says one pack.
    app.fill_cart(&buyer, &[("goods_stickers", 9)]).await;
    let stale = app
        .pay_cart(&buyer, &[("cart_version", shown.as_str())])
        .await;
    assert_eq!(stale.status(), 409);
    assert!(stale.text().await.expect("body").contains(CART_CHANGED));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM orders").await,
        0,
        "nothing charged"
    );
    // Reloaded, the page shows the cart as it is, and that is what is charged.
    let answer = app.pay_answer(&buyer).await;
    let intent = app
        .stripe_get(&format!("/v1/payment_intents/{}", answer.intent()))
        .await;
    let unit = app
        .stripe_get(&format!("/v1/prices/{}", app.price_id("goods_stickers")))
        .await;
    assert_eq!(
        intent["amount"],
        unit["unit_amount"].as_i64().expect("amount") * 10
    );
}

/// The shop's message, as the buyer reads it.
const CART_CHANGED: &str =
    "Your cart changed since this page was shown. Please check it and pay again.";

#[tokio::test]
async fn l9_a_double_submit_of_pay_gives_one_order_and_one_intent() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("double-pay@example.com").await;
    app.fill_cart(&buyer, &[("goods_poster", 1)]).await;
    let version = app.shown_cart_version(&buyer).await;
    let extra = [("cart_version", version.as_str())];
    // Pay clicked in two tabs at once.
    let (first, second) = tokio::join!(app.pay_cart(&buyer, &extra), app.pay_cart(&buyer, &extra));
    let body = |text: String| serde_json::from_str::<serde_json::Value>(&text).expect("json");
    let (first, second) = (
        body(first.text().await.expect("body")),
        body(second.text().await.expect("body")),
    );
    assert_eq!(first["order_id"], second["order_id"], "{first} {second}");
    assert_eq!(
        first["client_secret"], second["client_secret"],
        "one intent"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(app.stock_of("poster").await, (1, 1));
}
