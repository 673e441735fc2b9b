//! Issue 22: guest checkout. A signed-out visitor buys on Stripe's hosted Checkout, which collects
//! the e-mail; the receipt and the success page link to the order through a signed URL; the order
//! joins the account that verifies that address.

use super::selling::address_in;
use crate::helpers::{
    CARD_OK, PASSWORD, TestApp, follow_verification_link, get_url, location, mail_link,
    testid_text, unique_email,
};

/// A visitor's cart checked out as a guest, shipped to the US and paid with `email`; returns the
/// session id.
async fn guest_buys(app: &TestApp, visitor: &reqwest::Client, email: &str) -> String {
    let session = app.buy(visitor, &[("goods_mug", 1)]).await;
    app.sim
        .act()
        .choose_shipping(&session, &address_in("US", None))
        .expect("address");
    app.sim
        .act()
        .pay_checkout(&session, Some(email), CARD_OK)
        .expect("paid");
    app.settle_webhooks().await;
    session
}

#[tokio::test]
async fn a_guest_buys_and_reaches_the_order_only_through_its_signed_link() {
    let app = TestApp::builder().mail().start().await;
    app.settle_webhooks().await;
    let visitor = app.browser();
    let cart = app.page(&visitor, "/cart").await;
    assert!(
        !cart.contains("Check out as a guest"),
        "empty cart: nothing to check out"
    );
    app.add_to_cart(&visitor, "goods_mug", 1).await;
    let cart = app.page(&visitor, "/cart").await;
    assert!(cart.contains("Check out as a guest") && cart.contains("Sign in to check out"));
    app.post_form(&visitor, "/api/cart_clear", "/cart", &[])
        .await;

    let email = unique_email("guest");
    let session = guest_buys(&app, &visitor, &email).await;
    let stripe = app
        .stripe_get(&format!("/v1/checkout/sessions/{session}"))
        .await;
    assert!(stripe["customer"].is_string(), "Checkout made the customer");
    assert_eq!(stripe["customer_creation"], "always");
    let order = app.order_of_session(&session).await;
    assert_eq!(order.status, "paid");
    let (user_id, guest_email) = sqlx::query_as::<_, (Option<i64>, Option<String>)>(
        "SELECT user_id, guest_email FROM orders WHERE id = $1",
    )
    .bind(order.id)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("order");
    assert_eq!(
        (user_id, guest_email.as_deref()),
        (None, Some(email.as_str()))
    );

    // Back from Checkout: the success URL carries the link, and the cart is bought.
    let success = stripe["success_url"]
        .as_str()
        .expect("success url")
        .replace("{CHECKOUT_SESSION_ID}", &session);
    assert!(success.contains("?key="), "{success}");
    let page = get_url(&visitor, &success).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.expect("html");
    assert_eq!(testid_text(&page, "order-status"), Some("Paid"));
    assert!(page.contains("data-testid=\"guest-note\""));
    assert_eq!(
        crate::helpers::cart_count(&page),
        Some(0),
        "the cart is bought"
    );

    // The receipt links to the order; the link works in any browser, a changed key nowhere.
    let mails = app.exactly_mails_to(&email, 1).await;
    let link = mail_link(
        &mails[0],
        &format!("{}/shop/orders/{}?key=", app.base, order.id),
    );
    let elsewhere = app.browser();
    let opened = get_url(&elsewhere, &link).await;
    assert_eq!(opened.status(), 200);
    assert!(
        opened
            .text()
            .await
            .expect("html")
            .contains("12 Analytical Way")
    );
    let mut forged = link.clone();
    let last = forged.pop().expect("a key");
    forged.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(get_url(&elsewhere, &forged).await.status(), 404);
    let other_order = link.replace(
        &format!("/orders/{}?", order.id),
        &format!("/orders/{}?", order.id + 1),
    );
    assert_eq!(get_url(&elsewhere, &other_order).await.status(), 404);
    let without = get_url(
        &elsewhere,
        &format!("{}/shop/orders/{}", app.base, order.id),
    )
    .await;
    assert!(location(&without).starts_with("/login"), "no key: sign in");
}

#[tokio::test]
async fn a_guest_order_joins_the_account_that_verifies_its_address() {
    let app = TestApp::builder().mail().start().await;
    app.settle_webhooks().await;
    let email = unique_email("later");
    let session = guest_buys(&app, &app.browser(), &email).await;
    let order = app.order_of_session(&session).await;

    // Signing up is not enough (anyone can type the address); following the mailed link is.
    let browser = app.browser();
    app.sign_up(&browser, &email, PASSWORD).await;
    let dashboard = app.page(&browser, "/dashboard").await;
    assert!(
        !dashboard.contains(&format!("#{}", order.id)),
        "not before the address is verified"
    );
    let mails = app.exactly_mails_to(&email, 2).await;
    let verify = mails
        .iter()
        .find(|m| m.subject == "Confirm your e-mail address")
        .expect("verification mail");
    let link = mail_link(verify, &format!("{}/verify-email?token=", app.base));
    follow_verification_link(&app, &browser, &link).await;
    let dashboard = app.page(&browser, "/dashboard").await;
    assert!(
        dashboard.contains(&format!("#{}", order.id)),
        "the order is theirs now"
    );
    let own = app
        .page(&browser, &format!("/shop/orders/{}", order.id))
        .await;
    assert!(own.contains("Paid"));

    // An account that was verified before: the next guest order with its address joins at once.
    let again = guest_buys(&app, &app.browser(), &email).await;
    let bound = sqlx::query_scalar::<_, Option<i64>>(
        "SELECT user_id FROM orders WHERE checkout_session_id = $1",
    )
    .bind(&again)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("order");
    assert!(bound.is_some(), "bound when paid");
}
