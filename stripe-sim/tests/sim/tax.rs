//! Tax (issue 22): the Tax Calculations API on the sim's rate table, and a PaymentIntent that
//! carries a calculation (`hooks[inputs][tax][calculation]`) and must charge its total.

use serde_json::{Value, json};

use crate::common::*;

fn calculation<'a>(country: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("currency", "usd"),
        ("customer_details[address][country]", country),
        ("customer_details[address_source]", "shipping"),
    ];
    form.extend_from_slice(extra);
    form
}

#[tokio::test]
async fn calculations_follow_the_rate_table_line_by_line() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url().to_owned();
        // 7.25 % of 1400 is 101.5 (102), of 500 is 36.25 (36), of shipping 500 again 36.
        let form = calculation(
            "US",
            &[
                ("customer_details[address][state]", "CA"),
                ("line_items[0][amount]", "1400"),
                ("line_items[0][reference]", "mug"),
                ("line_items[1][amount]", "500"),
                ("line_items[1][reference]", "stickers"),
                ("shipping_cost[amount]", "500"),
            ],
        );
        let (status, calc) = api_form(&base, "/v1/tax/calculations", &form).await;
        assert_eq!(status, 200, "{calc}");
        assert!(
            calc["id"]
                .as_str()
                .is_some_and(|id| id.starts_with("taxcalc_"))
        );
        assert_eq!(calc["tax_amount_exclusive"], 174);
        assert_eq!(calc["amount_total"], 1400 + 500 + 500 + 174);
        assert_eq!(calc["shipping_cost"]["amount_tax"], 36);
        assert_eq!(
            calc["tax_breakdown"][0]["tax_rate_details"]["percentage_decimal"],
            "7.25"
        );
        assert_eq!(calc["tax_breakdown"][0]["taxable_amount"], 1900);
        let id = calc["id"].as_str().expect("id");
        let lines = api_get(
            &http(),
            &base,
            &format!("/v1/tax/calculations/{id}/line_items"),
        )
        .await;
        let taxes: Vec<&Value> = lines["data"]
            .as_array()
            .expect("lines")
            .iter()
            .map(|l| &l["amount_tax"])
            .collect();
        assert_eq!(taxes, [&json!(102), &json!(36)]);

        let (_, vat) = api_form(
            &base,
            "/v1/tax/calculations",
            &calculation(
                "GB",
                &[
                    ("line_items[0][amount]", "1200"),
                    ("line_items[0][tax_behavior]", "inclusive"),
                ],
            ),
        )
        .await;
        assert_eq!(
            (
                vat["tax_amount_inclusive"].clone(),
                vat["amount_total"].clone()
            ),
            (json!(200), json!(1200))
        );
        let (_, reverse) = api_form(
            &base,
            "/v1/tax/calculations",
            &calculation(
                "DE",
                &[
                    ("line_items[0][amount]", "1000"),
                    ("customer_details[tax_ids][0][type]", "eu_vat"),
                    ("customer_details[tax_ids][0][value]", "DE123456789"),
                ],
            ),
        )
        .await;
        assert_eq!(reverse["tax_amount_exclusive"], 0);
        assert_eq!(
            reverse["tax_breakdown"][0]["taxability_reason"],
            "reverse_charge"
        );
        let mut yen = calculation("JP", &[("line_items[0][amount]", "1000")]);
        yen[0] = ("currency", "jpy");
        let (_, jct) = api_form(&base, "/v1/tax/calculations", &yen).await;
        assert_eq!(
            (
                jct["tax_amount_exclusive"].clone(),
                jct["amount_total"].clone()
            ),
            (json!(100), json!(1100)),
            "¥ has no minor unit"
        );
        let (status, err) = api_form(
            &base,
            "/v1/tax/calculations",
            &[("currency", "usd"), ("line_items[0][amount]", "1")],
        )
        .await;
        assert_eq!(
            (status, err["error"]["param"].clone()),
            (400, json!("customer_details"))
        );
    })
    .await;
}

#[tokio::test]
async fn an_intent_carries_its_calculation_and_charges_its_total() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url().to_owned();
        let (_, calc) = api_form(
            &base,
            "/v1/tax/calculations",
            &calculation("US", &[("line_items[0][amount]", "1000")]),
        )
        .await;
        let id = calc["id"].as_str().expect("id");
        let total = calc["amount_total"].as_i64().expect("total").to_string();
        let hook = "hooks[inputs][tax][calculation]";
        let (status, err) = api_form(
            &base,
            "/v1/payment_intents",
            &[("amount", "1000"), ("currency", "usd"), (hook, id)],
        )
        .await;
        assert_eq!(
            (status, err["error"]["param"].clone()),
            (400, json!("amount")),
            "{err}"
        );
        let (status, pi) = api_form(
            &base,
            "/v1/payment_intents",
            &[
                ("amount", total.as_str()),
                ("currency", "usd"),
                (hook, id),
                ("shipping[name]", "Ada"),
                ("shipping[address][line1]", "1 Main St"),
                ("shipping[address][country]", "us"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{pi}");
        assert_eq!(pi["hooks"]["inputs"]["tax"]["calculation"], id);
        assert_eq!(pi["shipping"]["address"]["country"], "US");
        let pi_id = pi["id"].as_str().expect("pi");
        let (status, _) = api_form(
            &base,
            &format!("/v1/payment_intents/{pi_id}"),
            &[("amount", "999")],
        )
        .await;
        assert_eq!(status, 400, "the amount stays the calculation's");
        let (status, _) = api_form(
            &base,
            "/v1/payment_intents",
            &[("amount", "1"), ("currency", "usd"), (hook, "taxcalc_nope")],
        )
        .await;
        assert_eq!(status, 404);
        assert_eq!(
            sim.act()
                .confirm_intent(pi_id, "4242424242424242")
                .expect("paid"),
            "succeeded"
        );
    })
    .await;
}

/// Checkout with `automatic_tax`: the tax waits for the address, then comes off the discounted
/// goods and the shipping, and the intent charges the total.
#[tokio::test]
async fn checkout_taxes_the_discounted_goods_and_shipping_where_they_go() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url().to_owned();
        let (coupon, _) =
            crate::discounts::code(&base, &[("percent_off", "10")], &[("code", "TAXED")]).await;
        let mug = sim.price_id("goods_mug").expect("mug");
        let (status, session) = api_form(
            &base,
            "/v1/checkout/sessions",
            &[
                ("mode", "payment"),
                ("success_url", "http://x/"),
                ("line_items[0][price]", mug.as_str()),
                ("line_items[0][quantity]", "2"),
                ("discounts[0][coupon]", coupon.as_str()),
                ("automatic_tax[enabled]", "true"),
                ("shipping_address_collection[allowed_countries][0]", "GB"),
                (
                    "shipping_options[0][shipping_rate_data][display_name]",
                    "Royal Mail",
                ),
                (
                    "shipping_options[0][shipping_rate_data][fixed_amount][amount]",
                    "500",
                ),
                (
                    "shipping_options[0][shipping_rate_data][fixed_amount][currency]",
                    "usd",
                ),
            ],
        )
        .await;
        assert_eq!(status, 200, "{session}");
        assert_eq!(
            session["automatic_tax"]["status"],
            "requires_location_inputs"
        );
        assert_eq!(session["total_details"]["amount_tax"], 0);
        let id = session["id"].as_str().expect("id");
        let address = stripe_sim::ShippingChoice {
            name: "Ada".into(),
            line1: "1 Strand".into(),
            city: "London".into(),
            postal_code: "WC2N 5DU".into(),
            country: "GB".into(),
            ..Default::default()
        };
        sim.act().choose_shipping(id, &address).expect("address");
        let located = api_get(&http(), &base, &format!("/v1/checkout/sessions/{id}")).await;
        // 2 × 1400 = 2800, less 10 % = 2520, 20 % VAT 504; shipping 500 with 100 VAT.
        assert_eq!(located["automatic_tax"]["status"], "complete");
        assert_eq!(
            located["total_details"],
            json!({ "amount_discount": 280, "amount_shipping": 500, "amount_tax": 604 })
        );
        assert_eq!(located["shipping_cost"]["amount_tax"], 100);
        assert_eq!(located["amount_total"], 2800 - 280 + 500 + 604);
        let lines = api_get(
            &http(),
            &base,
            &format!("/v1/checkout/sessions/{id}/line_items"),
        )
        .await;
        assert_eq!(lines["data"][0]["amount_tax"], 504);
        assert_eq!(lines["data"][0]["amount_total"], 2520 + 504);
        sim.act()
            .pay_checkout(id, Some("t@x.io"), "4242424242424242")
            .expect("paid");
        let paid = api_get(&http(), &base, &format!("/v1/checkout/sessions/{id}")).await;
        let pi = api_get(
            &http(),
            &base,
            &format!(
                "/v1/payment_intents/{}",
                paid["payment_intent"].as_str().expect("pi")
            ),
        )
        .await;
        assert_eq!(pi["amount"], 3624);
    })
    .await;
}

/// Stripe taxes Checkout by the customer's address: with a customer passed in, Checkout must be
/// allowed to save the address it collects (`customer_update`), or the session is refused.
#[tokio::test]
async fn checkout_with_a_customer_and_automatic_tax_needs_customer_update() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url().to_owned();
        let (_, customer) = api_form(&base, "/v1/customers", &[("email", "tax@x.io")]).await;
        let customer = customer["id"].as_str().expect("customer").to_owned();
        let mug = sim.price_id("goods_mug").expect("mug");
        let mut params = vec![
            ("mode", "payment"),
            ("success_url", "http://x/"),
            ("customer", customer.as_str()),
            ("line_items[0][price]", mug.as_str()),
            ("line_items[0][quantity]", "1"),
            ("automatic_tax[enabled]", "true"),
        ];
        let (status, refused) = api_form(&base, "/v1/checkout/sessions", &params).await;
        assert_eq!(status, 400, "{refused}");
        assert_eq!(refused["error"]["param"], "customer_update");
        params.push(("customer_update[shipping]", "auto"));
        let (status, session) = api_form(&base, "/v1/checkout/sessions", &params).await;
        assert_eq!(status, 200, "{session}");
        assert_eq!(session["automatic_tax"]["enabled"], true);
    })
    .await;
}

/// A line that names a product and no tax code is taxed by the product's `tax_code`, as Stripe does.
#[tokio::test]
async fn a_line_naming_a_product_takes_its_tax_code() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url().to_owned();
        let (_, exempt) = api_form(
            &base,
            "/v1/products",
            &[("name", "Gift card"), ("tax_code", "txcd_00000000")],
        )
        .await;
        let exempt = exempt["id"].as_str().expect("product").to_owned();
        let (status, calc) = api_form(
            &base,
            "/v1/tax/calculations",
            &[
                ("currency", "usd"),
                ("customer_details[address][country]", "DE"),
                ("customer_details[address_source]", "shipping"),
                ("line_items[0][amount]", "1000"),
                ("line_items[0][product]", exempt.as_str()),
                ("line_items[0][reference]", "gift"),
                ("line_items[1][amount]", "1000"),
                ("line_items[1][reference]", "goods"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{calc}");
        assert_eq!(calc["tax_amount_exclusive"], 190, "only the goods, at 19 %");
        assert_eq!(calc["amount_total"], 2190);
    })
    .await;
}
