//! Issue 22 on our own page: the buyer enters the address, picks a rate and types a promotion code;
//! the server checks the code at Stripe, asks Stripe Tax, and the PaymentIntent charges that total,
//! which the order keeps to the cent.

use super::selling::{good_in, promotion_code};
use crate::helpers::{CARD_OK, TestApp, form_error, location, testid_text};

const GERMANY: &[(&str, &str)] = &[
    ("name", "Ada Lovelace"),
    ("line1", "Unter den Linden 1"),
    ("city", "Berlin"),
    ("postal_code", "10117"),
    ("country", "DE"),
];

fn with<'a>(base: &[(&'a str, &'a str)], more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    base.iter().chain(more).copied().collect()
}

#[tokio::test]
async fn our_page_charges_goods_shipping_tax_and_code_as_stripe_computes_them() {
    let app = TestApp::spawn_with(&[("STRIPE_TAX", "on")]).await;
    app.settle_webhooks().await;
    promotion_code(&app, &[("percent_off", "15")], "PAGE15").await;
    let buyer = app.new_user("own-page@example.com").await;
    app.fill_cart(&buyer, &[("goods_hoodie", 1), ("goods_stickers", 1)])
        .await;
    let page = app.page(&buyer, "/shop/pay").await;
    assert!(
        page.contains("data-testid=\"pay-address-needed\""),
        "address first"
    );
    assert!(
        !page.contains("data-cart-version"),
        "no card field before it"
    );

    let brazil: Vec<(&str, &str)> = GERMANY
        .iter()
        .map(|&(k, v)| if k == "country" { (k, "BR") } else { (k, v) })
        .collect();
    let abroad = app.pay_details(&buyer, &brazil).await;
    assert_eq!(
        form_error(&location(&abroad)).as_deref(),
        Some("Sorry, we do not ship to that country.")
    );
    let unknown = app
        .pay_details(&buyer, &with(GERMANY, &[("code", "NOPE")]))
        .await;
    assert_eq!(location(&unknown), "/shop/pay");
    let page = app.page(&buyer, "/shop/pay").await;
    assert!(
        page.contains("data-testid=\"code-refused\""),
        "the code is refused"
    );
    assert!(!page.contains("data-testid=\"pay-discount\""));

    let entered = app
        .pay_details(
            &buyer,
            &with(GERMANY, &[("rate", "Express"), ("code", "PAGE15")]),
        )
        .await;
    assert_eq!(location(&entered), "/shop/pay");
    let page = app.page(&buyer, "/shop/pay").await;
    assert_eq!(testid_text(&page, "pay-subtotal"), Some("$54"));
    assert_eq!(testid_text(&page, "pay-discount"), Some("-$8.10"));
    assert_eq!(testid_text(&page, "pay-shipping"), Some("$15"));
    let shown_total = testid_text(&page, "pay-total")
        .unwrap_or_default()
        .to_owned();

    let answer = app.pay_answer(&buyer).await;
    let intent = app
        .stripe_get(&format!("/v1/payment_intents/{}", answer.intent()))
        .await;
    let row = sqlx::query_as::<_, (i64, i64, i64, i64, i64, Option<String>, Option<String>)>(
        "SELECT amount_subtotal, amount_discount, amount_shipping, amount_tax, amount_total, \
         promotion_code, ship_city FROM orders WHERE id = $1",
    )
    .bind(answer.order_id)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("order");
    let (subtotal, discount, shipping, tax, total, code, city) = row;
    assert_eq!((subtotal, discount, shipping), (5400, 810, 1500));
    // 19 % VAT on the $45.90 of goods after the code (872) and on the $15 shipping (285).
    assert_eq!(tax, 872 + 285);
    assert_eq!(total, subtotal - discount + shipping + tax);
    assert_eq!(
        intent["amount"].as_i64(),
        Some(total),
        "the intent charges Stripe Tax's total"
    );
    assert_eq!(shown_total, format!("${}.{:02}", total / 100, total % 100));
    assert_eq!(intent["shipping"]["address"]["country"], "DE");
    assert_eq!(
        (code.as_deref(), city.as_deref()),
        (Some("PAGE15"), Some("Berlin"))
    );

    app.sim
        .act()
        .confirm_intent(answer.intent(), CARD_OK)
        .expect("paid");
    app.settle_webhooks().await;
    let (status, charged, attention) = sqlx::query_as::<_, (String, Option<i64>, Option<String>)>(
        "SELECT status, amount_charged, attention FROM orders WHERE id = $1",
    )
    .bind(answer.order_id)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("order");
    assert_eq!((status.as_str(), attention), ("paid", None));
    assert_eq!(charged, Some(total));
    let order_page = app
        .page(&buyer, &format!("/shop/orders/{}", answer.order_id))
        .await;
    assert!(order_page.contains("Discount (PAGE15)") && order_page.contains("Shipping (Express)"));
    assert!(order_page.contains("Unter den Linden 1"));
}

#[tokio::test]
async fn changing_the_details_after_the_page_was_shown_is_refused_not_charged() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("changed-details@example.com").await;
    app.fill_cart(&buyer, &[("goods_mug", 1)]).await;
    let version = app.shown_cart_version(&buyer).await;
    assert!(!version.is_empty());
    // Another tab picks express shipping: the version the first tab shows is now stale.
    app.pay_details(
        &buyer,
        &with(crate::helpers::US_ADDRESS, &[("rate", "Express")]),
    )
    .await;
    let stale = app
        .pay_cart(&buyer, &[("cart_version", version.as_str())])
        .await;
    assert_eq!(stale.status(), 409, "refused, nothing charged");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 0);
}

/// Our own page in a zero-decimal and a three-decimal currency: whole yen and thousandths of a
/// dinar from the rate to the intent, as Stripe Tax totals them.
#[tokio::test]
async fn our_page_charges_yen_and_dinars_in_their_own_minor_units() {
    let app = TestApp::spawn_with(&[
        ("STRIPE_TAX", "on"),
        (
            "SHIPPING_RATES",
            "Standard=500 usd; Yamato=800 jpy, 2-3 days",
        ),
    ])
    .await;
    app.settle_webhooks().await;
    let yen = good_in(&app, "furoshiki", "jpy", 1_250, true).await;
    let dinar = good_in(&app, "sadu", "kwd", 12_345, false).await;
    promotion_code(&app, &[("percent_off", "15")], "YEN15").await;
    let japan = [
        ("name", "Sei Shonagon"),
        ("line1", "1-1 Chiyoda"),
        ("city", "Tokyo"),
        ("postal_code", "100-0001"),
        ("country", "JP"),
        ("code", "YEN15"),
    ];
    for (lookup_key, quantity, address, expected) in [
        // ¥3,750 less 15 % (¥563), ¥800 shipping, 10 % tax per line: ¥319 + ¥80.
        (yen.as_str(), 3, &japan[..], (3_750, 563, 800, 319 + 80)),
        // 12.345 KWD, a download: no shipping; taxed where the buyer is (US, 7.25 %): 0.895.
        (
            dinar.as_str(),
            1,
            crate::helpers::US_ADDRESS,
            (12_345, 0, 0, 895),
        ),
    ] {
        let buyer = app
            .new_user(&crate::helpers::unique_email("minor-units"))
            .await;
        app.fill_cart(&buyer, &[(lookup_key, quantity)]).await;
        let entered = app.pay_details(&buyer, address).await;
        assert_eq!(location(&entered), "/shop/pay", "{lookup_key}");
        let page = app.page(&buyer, "/shop/pay").await;
        let answer = app.pay_answer(&buyer).await;
        let intent = app
            .stripe_get(&format!("/v1/payment_intents/{}", answer.intent()))
            .await;
        let (subtotal, discount, shipping, tax, total) = sqlx::query_as::<
            _,
            (i64, i64, i64, i64, i64),
        >(
            "SELECT amount_subtotal, amount_discount, amount_shipping, amount_tax, amount_total \
                 FROM orders WHERE id = $1",
        )
        .bind(answer.order_id)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("order");
        assert_eq!(
            (subtotal, discount, shipping, tax),
            expected,
            "{lookup_key}"
        );
        assert_eq!(total, subtotal - discount + shipping + tax);
        assert_eq!(intent["amount"].as_i64(), Some(total), "{lookup_key}");
        let currency = intent["currency"].as_str().expect("currency");
        // ¥4,386 and 13.240 KWD: each in its own minor units.
        assert_eq!(
            testid_text(&page, "pay-total"),
            Some(storefront::Money::new(total, currency).format().as_str())
        );
        app.sim
            .act()
            .confirm_intent(answer.intent(), CARD_OK)
            .expect("paid");
        app.settle_webhooks().await;
        assert_eq!(
            app.order(answer.order_id).await.status,
            "paid",
            "{lookup_key}"
        );
    }
}

/// Each look-up of a code (and each tax calculation) is a Stripe call: reloading the pay page spends
/// the buyer's Stripe budget like any other call, and stops costing Stripe once it is spent.
#[tokio::test]
async fn reloading_the_pay_page_with_a_code_is_bounded_by_the_stripe_budget() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    promotion_code(&app, &[("percent_off", "5")], "RELOAD").await;
    let buyer = app.new_user("reloads@example.com").await;
    app.fill_cart(&buyer, &[("goods_stickers", 1)]).await;
    let entered = app.pay_details(&buyer, &[("code", "RELOAD")]).await;
    assert_eq!(location(&entered), "/shop/pay");
    let before = app.sim.api_requests();
    let mut limited = 0;
    for _ in 0..20 {
        let page = app.page(&buyer, "/shop/pay").await;
        if !page.contains("data-testid=\"pay-discount\"") {
            limited += 1;
        }
    }
    let calls = app.sim.api_requests() - before;
    assert!(calls <= 10, "{calls} Stripe calls for 20 reloads");
    assert!(
        limited >= 10,
        "{limited} reloads answered without asking Stripe"
    );
}
