//! Issue 22 on hosted Checkout: shippable goods collect an address and offer the configured rates,
//! Stripe Tax adds tax, a promotion code takes its share off, and the order keeps every amount as
//! Stripe charged it (to the cent, in zero- and three-decimal currencies too).

use crate::helpers::{CARD_OK, TestApp, form_error, location};
use reqwest::Method;
use serde_json::Value;
use stripe_sim::ShippingChoice;

const TAXED: &[(&str, &str)] = &[("STRIPE_TAX", "on")];

/// A coupon and a promotion code for it at the sim; `coupon` are the coupon's parameters.
pub async fn promotion_code(app: &TestApp, coupon: &[(&str, &str)], code: &str) -> String {
    let coupon: Value = app
        .stripe_api(Method::POST, "/v1/coupons")
        .form(coupon)
        .send()
        .await
        .expect("coupon")
        .json()
        .await
        .expect("json");
    let coupon = coupon["id"].as_str().expect("coupon id");
    let promo: Value = app
        .stripe_api(Method::POST, "/v1/promotion_codes")
        .form(&[
            ("promotion[type]", "coupon"),
            ("promotion[coupon]", coupon),
            ("code", code),
        ])
        .send()
        .await
        .expect("promotion code")
        .json()
        .await
        .expect("json");
    promo["id"].as_str().expect("promo id").to_owned()
}

pub fn address_in(country: &str, rate: Option<String>) -> ShippingChoice {
    ShippingChoice {
        name: "Ada Lovelace".into(),
        line1: "12 Analytical Way".into(),
        city: "Springfield".into(),
        postal_code: "10115".into(),
        country: country.into(),
        rate,
        ..ShippingChoice::default()
    }
}

/// Stripe's money fields of a session, as the order must hold them.
fn stripe_money(session: &Value) -> [i64; 5] {
    let field = |v: &Value| v.as_i64().expect("an amount");
    [
        field(&session["amount_subtotal"]),
        field(&session["total_details"]["amount_discount"]),
        field(&session["total_details"]["amount_shipping"]),
        field(&session["total_details"]["amount_tax"]),
        field(&session["amount_total"]),
    ]
}

async fn order_money(app: &TestApp, order_id: i64) -> ([i64; 5], Option<i64>, Option<String>) {
    let row = sqlx::query_as::<_, (i64, i64, i64, i64, i64, Option<i64>, Option<String>)>(
        "SELECT amount_subtotal, amount_discount, amount_shipping, amount_tax, amount_total, \
         amount_charged, attention FROM orders WHERE id = $1",
    )
    .bind(order_id)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("order money");
    ([row.0, row.1, row.2, row.3, row.4], row.5, row.6)
}

#[tokio::test]
async fn a_hosted_order_with_shipping_tax_and_a_code_keeps_what_stripe_charged() {
    let app = TestApp::builder().mail().env(TAXED).start().await;
    app.settle_webhooks().await;
    let promo = promotion_code(&app, &[("percent_off", "10")], "TENOFF").await;
    let email = crate::helpers::unique_email("shipped");
    let buyer = app.new_user(&email).await;
    let session = app
        .buy(&buyer, &[("goods_hoodie", 1), ("goods_stickers", 1)])
        .await;
    let open = app
        .stripe_get(&format!("/v1/checkout/sessions/{session}"))
        .await;
    assert_eq!(open["allow_promotion_codes"], true);
    assert_eq!(open["automatic_tax"]["enabled"], true);
    let countries = &open["shipping_address_collection"]["allowed_countries"];
    assert_eq!(countries[0], "US", "{countries}");
    assert!(
        countries
            .as_array()
            .is_some_and(|c| c.contains(&"DE".into()))
    );
    // $54 of goods: standard shipping is free from $50, express is not.
    let options: Vec<i64> = open["shipping_options"]
        .as_array()
        .expect("options")
        .iter()
        .map(|o| o["shipping_amount"].as_i64().expect("amount"))
        .collect();
    assert_eq!(options, [0, 1500]);
    let express = open["shipping_options"][1]["shipping_rate"]
        .as_str()
        .expect("rate")
        .to_owned();

    app.sim
        .act()
        .apply_promotion_code(&session, "TENOFF")
        .expect("code applied");
    app.sim
        .act()
        .choose_shipping(&session, &address_in("DE", Some(express)))
        .expect("address");
    app.pay(&session, CARD_OK);
    app.settle_webhooks().await;

    let order = app.order_of_session(&session).await;
    assert_eq!(order.status, "paid");
    let paid = app
        .stripe_get(&format!("/v1/checkout/sessions/{session}"))
        .await;
    let charged = stripe_money(&paid);
    let (stored, amount_charged, attention) = order_money(&app, order.id).await;
    assert_eq!(stored, charged, "subtotal, discount, shipping, tax, total");
    assert_eq!(attention, None);
    let [subtotal, discount, shipping, tax, total] = charged;
    assert_eq!((subtotal, discount, shipping), (5400, 540, 1500));
    assert!(tax > 0, "German VAT on goods and shipping");
    assert_eq!(subtotal - discount + shipping + tax, total);
    assert_eq!(
        amount_charged,
        Some(total),
        "the intent charged Stripe's total"
    );
    let redeemed = app
        .stripe_get(&format!("/v1/promotion_codes/{promo}"))
        .await;
    assert_eq!(redeemed["times_redeemed"], 1);

    let page = app
        .page(&buyer, &format!("/shop/orders/{}", order.id))
        .await;
    for needed in [
        "Discount (TENOFF)",
        "-$5.40",
        "Shipping (Express)",
        "$15",
        "Tax",
        "12 Analytical Way",
        "1-2 business days",
    ] {
        assert!(page.contains(needed), "{needed} missing on the order page");
    }
    let mails = app.exactly_mails_to(&email, 2).await;
    let receipt = mails
        .iter()
        .find(|m| m.subject.contains("receipt"))
        .expect("a receipt");
    for needed in [
        "Discount (TENOFF): -$5.40",
        "Shipping (Express): $15",
        "Ada Lovelace",
    ] {
        assert!(
            receipt.text.contains(needed),
            "{needed} in {}",
            receipt.text
        );
    }
}

#[tokio::test]
async fn a_refund_of_a_discounted_taxed_order_is_a_full_refund_of_what_was_charged() {
    let app = TestApp::spawn_with(TAXED).await;
    app.settle_webhooks().await;
    promotion_code(&app, &[("amount_off", "700"), ("currency", "usd")], "SEVEN").await;
    let buyer = app.new_user("refund-taxed@example.com").await;
    let session = app.buy(&buyer, &[("goods_mug", 2)]).await;
    app.sim
        .act()
        .apply_promotion_code(&session, "SEVEN")
        .expect("code");
    app.sim
        .act()
        .choose_shipping(&session, &address_in("US", None))
        .expect("address");
    app.pay(&session, CARD_OK);
    app.settle_webhooks().await;
    let order = app.order_of_session(&session).await;
    let ([subtotal, discount, shipping, tax, total], charged, _) =
        order_money(&app, order.id).await;
    // 2 × $14 less $7, standard shipping $5 (under $50), 7.25 % US tax on the $21 of goods (152)
    // and on the shipping (36), each rounded on its own as Stripe does.
    assert_eq!((subtotal, discount, shipping, tax), (2800, 700, 500, 188));
    assert_eq!(charged, Some(total));
    assert_eq!(app.stock_of("mug").await, (23, 0));

    let intent = order.payment_intent_id.clone().expect("intent");
    app.sim.act().refund(&intent, Some(1000)).expect("part");
    app.settle_webhooks().await;
    assert_eq!(app.order(order.id).await.status, "partially_refunded");
    app.sim.act().refund(&intent, None).expect("the rest");
    app.settle_webhooks().await;
    assert_eq!(app.order(order.id).await.status, "refunded");
    assert_eq!(app.stock_of("mug").await, (25, 0), "back on the shelf");
    let refunded = sqlx::query_scalar::<_, i64>("SELECT amount_refunded FROM orders WHERE id = $1")
        .bind(order.id)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("refunded");
    assert_eq!(refunded, total, "everything charged, not the catalog's $28");
}

/// A good priced in `currency` at the sim, sold by the shop once the catalog events arrive;
/// returns its price's lookup key.
pub async fn good_in(
    app: &TestApp,
    slug: &str,
    currency: &str,
    amount: i64,
    shippable: bool,
) -> String {
    let product: Value = app
        .stripe_api(Method::POST, "/v1/products")
        .form(&[
            ("name", slug),
            ("tax_code", "txcd_99999999"),
            ("metadata[kind]", "goods"),
            ("metadata[slug]", slug),
            ("metadata[stock]", "5"),
            (
                "metadata[shippable]",
                if shippable { "true" } else { "false" },
            ),
        ])
        .send()
        .await
        .expect("product")
        .json()
        .await
        .expect("json");
    let lookup_key = format!("goods_{slug}");
    let amount = amount.to_string();
    let price = app
        .stripe_api(Method::POST, "/v1/prices")
        .form(&[
            ("product", product["id"].as_str().expect("id")),
            ("currency", currency),
            ("unit_amount", amount.as_str()),
            ("tax_behavior", "exclusive"),
            ("lookup_key", lookup_key.as_str()),
        ])
        .send()
        .await
        .expect("price");
    assert_eq!(price.status(), 200);
    app.settle_webhooks().await;
    lookup_key
}

#[tokio::test]
async fn yen_and_dinar_orders_keep_stripes_amounts_in_their_own_minor_units() {
    let app = TestApp::spawn_with(&[
        ("STRIPE_TAX", "on"),
        (
            "SHIPPING_RATES",
            "Standard=500 usd; Yamato=800 jpy, 2-3 days",
        ),
    ])
    .await;
    app.settle_webhooks().await;
    let yen = good_in(&app, "tenugui", "jpy", 1250, true).await;
    let dinar = good_in(&app, "pattern", "kwd", 12_345, false).await;
    promotion_code(&app, &[("percent_off", "15")], "FIFTEEN").await;

    let buyer = app.new_user("yen@example.com").await;
    let session = app.buy(&buyer, &[(yen.as_str(), 3)]).await;
    app.sim
        .act()
        .apply_promotion_code(&session, "FIFTEEN")
        .expect("code");
    app.sim
        .act()
        .choose_shipping(&session, &address_in("JP", None))
        .expect("address");
    app.pay(&session, CARD_OK);
    app.settle_webhooks().await;
    let order = app.order_of_session(&session).await;
    let paid = app
        .stripe_get(&format!("/v1/checkout/sessions/{session}"))
        .await;
    let (stored, charged, attention) = order_money(&app, order.id).await;
    assert_eq!(order.status, "paid", "{attention:?}");
    assert_eq!(stored, stripe_money(&paid));
    // ¥3,750 less 15 % (¥562.5 rounds to ¥563), ¥800 shipping, 10 % tax: whole yen throughout.
    assert_eq!(&stored[..3], &[3750, 563, 800]);
    assert_eq!(charged, Some(stored[4]));
    let page = app
        .page(&buyer, &format!("/shop/orders/{}", order.id))
        .await;
    assert!(
        page.contains("¥3,750") && page.contains("-¥563"),
        "yen without decimals"
    );

    // A download priced in dinars (three decimals): no address, taxed where Stripe places the buyer.
    let other = app.new_user("dinar@example.com").await;
    let session = app.buy(&other, &[(dinar.as_str(), 1)]).await;
    let open = app
        .stripe_get(&format!("/v1/checkout/sessions/{session}"))
        .await;
    assert!(
        open["shipping_address_collection"].is_null(),
        "nothing to ship"
    );
    app.pay(&session, CARD_OK);
    app.settle_webhooks().await;
    let order = app.order_of_session(&session).await;
    let paid = app
        .stripe_get(&format!("/v1/checkout/sessions/{session}"))
        .await;
    let (stored, charged, _) = order_money(&app, order.id).await;
    assert_eq!(order.status, "paid");
    assert_eq!(stored, stripe_money(&paid));
    assert_eq!(stored[0], 12_345);
    assert_eq!(charged, Some(stored[4]));
    let page = app
        .page(&other, &format!("/shop/orders/{}", order.id))
        .await;
    assert!(page.contains("12.345 KWD"), "three decimals shown");
    assert!(
        !page.contains("Shipping ("),
        "a download has no shipping line"
    );
}

#[tokio::test]
async fn goods_in_a_currency_without_a_shipping_rate_are_refused_before_any_order() {
    let app = TestApp::spawn_with(&[("SHIPPING_RATES", "Standard=500 eur")]).await;
    app.settle_webhooks().await;
    let buyer = app.new_user("nowhere@example.com").await;
    app.fill_cart(&buyer, &[("goods_mug", 1)]).await;
    let refused = app.checkout_cart(&buyer).await;
    let message = form_error(&location(&refused)).unwrap_or_default();
    assert!(message.contains("cannot ship these goods"), "{message}");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 0);
    // A download needs no rate.
    let other = app.new_user("download@example.com").await;
    let session = app.buy(&other, &[("goods_stickers", 1)]).await;
    let open = app
        .stripe_get(&format!("/v1/checkout/sessions/{session}"))
        .await;
    assert!(
        open["shipping_address_collection"].is_null(),
        "nothing to ship"
    );
    assert_eq!(open["shipping_options"], serde_json::json!([]));
}
