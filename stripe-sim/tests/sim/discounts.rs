//! Coupons and promotion codes (issue 22): their API, a payment-mode session with a discount
//! given at creation (sent by the official Rust client) or typed on the hosted page, the totals
//! and line shares Stripe reports, redemption limits and restrictions.

use serde_json::{Value, json};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionDiscounts, CreateCheckoutSessionLineItems,
};

use crate::common::*;

/// A coupon and a promotion code for it; (coupon id, promotion code id).
pub(crate) async fn code(
    base: &str,
    coupon: &[(&str, &str)],
    code: &[(&str, &str)],
) -> (String, String) {
    let (status, c) = api_form(base, "/v1/coupons", coupon).await;
    assert_eq!(status, 200, "{c}");
    let id = c["id"].as_str().expect("coupon").to_owned();
    let mut form = vec![
        ("promotion[type]", "coupon"),
        ("promotion[coupon]", id.as_str()),
    ];
    form.extend_from_slice(code);
    let (status, p) = api_form(base, "/v1/promotion_codes", &form).await;
    assert_eq!(status, 200, "{p}");
    (id, p["id"].as_str().expect("promo").to_owned())
}

fn goods(sim: &stripe_sim::Sim, items: &[(&str, u64)]) -> CreateCheckoutSession {
    let items: Vec<_> = items
        .iter()
        .map(|(key, quantity)| {
            let mut item = CreateCheckoutSessionLineItems::new();
            item.price = Some(sim.price_id(key).expect("good"));
            item.quantity = Some(*quantity);
            item
        })
        .collect();
    CreateCheckoutSession::new()
        .mode(stripe_shared::CheckoutSessionMode::Payment)
        .line_items(items)
        .success_url("http://app.test/done")
}

#[tokio::test]
async fn coupons_and_codes_have_stripes_shapes_and_rules() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url().to_owned();
        let (_, c) = api_form(
            &base,
            "/v1/coupons",
            &[
                ("percent_off", "25.5"),
                ("duration", "once"),
                ("name", "Fall"),
            ],
        )
        .await;
        assert_eq!(c["percent_off"], json!(25.5));
        assert_eq!(c["valid"], true);
        let (status, err) = api_form(&base, "/v1/coupons", &[("amount_off", "500")]).await;
        assert_eq!(
            (status, err["error"]["param"].clone()),
            (400, json!("currency"))
        );
        let (status, _) = api_form(
            &base,
            "/v1/coupons",
            &[
                ("percent_off", "10"),
                ("amount_off", "5"),
                ("currency", "usd"),
            ],
        )
        .await;
        assert_eq!(status, 400);
        let (status, err) = api_form(
            &base,
            "/v1/coupons",
            &[("percent_off", "10"), ("duration", "repeating")],
        )
        .await;
        assert_eq!(
            (status, err["error"]["param"].clone()),
            (400, json!("duration_in_months"))
        );
        let (status, _) = api_form(&base, "/v1/coupons", &[("percent_off", "100.5")]).await;
        assert_eq!(status, 400, "at most 100 %");

        let (coupon, promo) = code(
            &base,
            &[("amount_off", "300"), ("currency", "usd"), ("id", "THREE")],
            &[("code", "Fall20")],
        )
        .await;
        assert_eq!(coupon, "THREE");
        let listed = api_get(&http(), &base, "/v1/promotion_codes?code=FALL20").await;
        assert_eq!(
            listed["data"][0]["id"],
            promo.as_str(),
            "codes match in any case"
        );
        assert_eq!(
            listed["data"][0]["promotion"],
            json!({ "coupon": "THREE", "type": "coupon" })
        );
        let (status, _) = api_form(
            &base,
            "/v1/promotion_codes",
            &[("promotion[coupon]", "THREE"), ("code", "fall20")],
        )
        .await;
        assert_eq!(status, 400, "one active code per text");
        let deleted = http()
            .delete(format!("{base}/v1/coupons/THREE"))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("delete");
        assert_eq!(
            deleted.json::<Value>().await.expect("json"),
            json!({ "id": "THREE", "object": "coupon", "deleted": true })
        );
        let gone = http()
            .get(format!("{base}/v1/coupons/THREE"))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("get");
        assert_eq!(gone.status(), 404);
    })
    .await;
}

#[tokio::test]
async fn a_discount_comes_off_the_goods_and_is_shared_over_the_lines() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let (http, base) = (http(), sim.base_url().to_owned());
        let (coupon, promo) = code(
            &base,
            &[("percent_off", "12.5")],
            &[("code", "EIGHTH"), ("max_redemptions", "1")],
        )
        .await;
        let mut discount = CreateCheckoutSessionDiscounts::new();
        discount.promotion_code = Some(promo.clone());
        let session = goods(&sim, &[("goods_mug", 1), ("goods_stickers", 1)])
            .discounts(vec![discount])
            .send(&c)
            .await
            .expect("session");
        let path = format!("/v1/checkout/sessions/{}", session.id.as_str());
        let open = api_get(&http, &base, &path).await;
        // 1400 + 500 = 1900; 12.5 % is 237.5, rounded half up to 238.
        assert_eq!(open["amount_subtotal"], 1900);
        assert_eq!(open["total_details"]["amount_discount"], 238);
        assert_eq!(open["amount_total"], 1900 - 238);
        assert_eq!(
            open["discounts"],
            json!([{ "coupon": coupon, "promotion_code": promo }])
        );
        let lines = api_get(&http, &base, &format!("{path}/line_items")).await;
        let shares: Vec<i64> = lines["data"]
            .as_array()
            .expect("lines")
            .iter()
            .map(|l| l["amount_discount"].as_i64().expect("share"))
            .collect();
        assert_eq!(shares.iter().sum::<i64>(), 238, "{shares:?}");
        assert_eq!(lines["data"][0]["amount_total"], 1400 - shares[0]);

        sim.act()
            .pay_checkout(session.id.as_str(), Some("d@x.io"), "4242424242424242")
            .expect("paid");
        let paid = api_get(&http, &base, &path).await;
        let pi = api_get(
            &http,
            &base,
            &format!(
                "/v1/payment_intents/{}",
                paid["payment_intent"].as_str().expect("pi")
            ),
        )
        .await;
        assert_eq!(pi["amount"], 1662, "what was charged");
        let used = api_get(&http, &base, &format!("/v1/promotion_codes/{promo}")).await;
        assert_eq!(used["times_redeemed"], 1);
        // The app reads the code the buyer typed with the session, as Stripe expands it.
        let expanded = api_get(
            &http,
            &base,
            &format!("{path}?expand[]=discounts.promotion_code"),
        )
        .await;
        assert_eq!(expanded["discounts"][0]["promotion_code"]["code"], "EIGHTH");
        // Our own page looks a code up by what the buyer typed, with its coupon.
        let found = api_get(
            &http,
            &base,
            "/v1/promotion_codes?code=EIGHTH&active=true&expand[]=data.promotion.coupon",
        )
        .await;
        assert_eq!(found["data"][0]["promotion"]["coupon"]["percent_off"], 12.5);
        assert_eq!(
            api_get(&http, &base, &format!("/v1/coupons/{coupon}")).await["times_redeemed"],
            1
        );

        let mut again = CreateCheckoutSessionDiscounts::new();
        again.promotion_code = Some(promo.clone());
        let refused = goods(&sim, &[("goods_mug", 1)])
            .discounts(vec![again])
            .send(&c)
            .await;
        assert!(refused.is_err(), "max_redemptions 1 is spent");
    })
    .await;
}

#[tokio::test]
async fn a_code_typed_on_the_page_is_checked_and_applied() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let (http, base) = (http(), sim.base_url().to_owned());
        code(
            &base,
            &[("amount_off", "500"), ("currency", "usd")],
            &[
                ("code", "BIGORDER"),
                ("restrictions[minimum_amount]", "2000"),
                ("restrictions[minimum_amount_currency]", "usd"),
            ],
        )
        .await;
        let expired_at = (sim.now() - 1).to_string();
        code(
            &base,
            &[("percent_off", "50")],
            &[("code", "OLD"), ("expires_at", expired_at.as_str())],
        )
        .await;
        code(&base, &[("percent_off", "10")], &[("code", "TEN")]).await;
        let session = goods(&sim, &[("goods_mug", 1)])
            .allow_promotion_codes(true)
            .send(&c)
            .await
            .expect("session");
        let id = session.id.as_str();
        let page = text(
            reqwest::get(format!("{base}/checkout/{id}"))
                .await
                .expect("page"),
        )
        .await;
        assert!(page.contains("Promotion code"), "{page}");
        let refusal = |code: &str| {
            sim.act()
                .apply_promotion_code(id, code)
                .expect_err("refused")
                .message
        };
        assert_eq!(refusal("BIGORDER"), "This code requires a larger order.");
        assert_eq!(refusal("old"), "This code has expired.");
        assert_eq!(refusal("NOPE"), "This code is invalid.");

        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let applied = browser
            .post(format!("{base}/checkout/{id}/promotion_code"))
            .form(&[("code", "ten")])
            .send()
            .await
            .expect("post");
        assert_eq!(applied.status(), 303);
        let page = text(
            reqwest::get(format!("{base}/checkout/{id}"))
                .await
                .expect("page"),
        )
        .await;
        assert!(page.contains("Discount (TEN)"), "{page}");
        let open = api_get(&http, &base, &format!("/v1/checkout/sessions/{id}")).await;
        assert_eq!(open["total_details"]["amount_discount"], 140);
        assert_eq!(open["amount_total"], 1260);

        let (status, err) = api_form(
            &base,
            "/v1/checkout/sessions",
            &[
                ("mode", "payment"),
                ("success_url", "http://x/"),
                (
                    "line_items[0][price]",
                    &sim.price_id("goods_mug").expect("mug"),
                ),
                ("line_items[0][quantity]", "1"),
                ("allow_promotion_codes", "true"),
                ("discounts[0][coupon]", "x"),
            ],
        )
        .await;
        assert_eq!(status, 400, "{err}");
        assert_eq!(err["error"]["param"], "discounts");
    })
    .await;
}
