//! Shipping (issue 22): shipping rates over the API, a payment-mode session that collects an
//! address and offers rates (sent by the official Rust client), the hosted page's shipping step,
//! and the totals and details Stripe reports afterwards.

use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems,
    CreateCheckoutSessionShippingAddressCollection,
    CreateCheckoutSessionShippingAddressCollectionAllowedCountries as Country,
    CreateCheckoutSessionShippingOptions, CreateCheckoutSessionShippingOptionsShippingRateData,
    CreateCheckoutSessionShippingOptionsShippingRateDataDeliveryEstimate as Estimate,
    CreateCheckoutSessionShippingOptionsShippingRateDataDeliveryEstimateMaximum as Max,
    CreateCheckoutSessionShippingOptionsShippingRateDataDeliveryEstimateMaximumUnit as MaxUnit,
    CreateCheckoutSessionShippingOptionsShippingRateDataDeliveryEstimateMinimum as Min,
    CreateCheckoutSessionShippingOptionsShippingRateDataDeliveryEstimateMinimumUnit as MinUnit,
    CreateCheckoutSessionShippingOptionsShippingRateDataFixedAmount as Fixed,
};
use stripe_sim::ShippingChoice;

use crate::common::*;

const STANDARD: &[(&str, &str)] = &[
    ("display_name", "Standard"),
    ("type", "fixed_amount"),
    ("fixed_amount[amount]", "500"),
    ("fixed_amount[currency]", "usd"),
    ("delivery_estimate[minimum][unit]", "business_day"),
    ("delivery_estimate[minimum][value]", "3"),
    ("delivery_estimate[maximum][unit]", "business_day"),
    ("delivery_estimate[maximum][value]", "5"),
];

#[tokio::test]
async fn shipping_rates_are_created_listed_retrieved_and_switched_off() {
    bounded(async {
        let sim = sim().await;
        let (http, base) = (http(), sim.base_url().to_owned());
        let (status, rate) = api_form(&base, "/v1/shipping_rates", STANDARD).await;
        assert_eq!(status, 200, "{rate}");
        let id = rate["id"].as_str().expect("id").to_owned();
        assert!(id.starts_with("shr_"), "{id}");
        assert_eq!(rate["fixed_amount"]["amount"], 500);
        assert_eq!(rate["delivery_estimate"]["minimum"]["unit"], "business_day");
        assert_eq!(rate["active"], true);
        let listed = api_get(&http, &base, "/v1/shipping_rates?active=true").await;
        assert_eq!(listed["data"][0]["id"], id.as_str());
        let (_, off) = api_form(
            &base,
            &format!("/v1/shipping_rates/{id}"),
            &[("active", "false")],
        )
        .await;
        assert_eq!(off["active"], false);
        let (status, err) = api_form(
            &base,
            &format!("/v1/shipping_rates/{id}"),
            &[("display_name", "x")],
        )
        .await;
        assert_eq!(status, 400, "amounts and names are fixed once made: {err}");
        assert_eq!(err["error"]["param"], "display_name");
        let (status, err) =
            api_form(&base, "/v1/shipping_rates", &[("display_name", "Free")]).await;
        assert_eq!(status, 400);
        assert_eq!(err["error"]["param"], "fixed_amount");
        let missing = http
            .get(format!("{base}/v1/shipping_rates/shr_nope"))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("get");
        assert_eq!(missing.status(), 404);
    })
    .await;
}

/// A mug to the US with a choice of standard (the default) or express.
pub(crate) fn shipped_session(sim: &stripe_sim::Sim) -> CreateCheckoutSession {
    let mut item = CreateCheckoutSessionLineItems::new();
    item.price = Some(sim.price_id("goods_mug").expect("mug"));
    item.quantity = Some(2);
    let rate = |name: &str, amount: i64, days: i64| {
        let mut data = CreateCheckoutSessionShippingOptionsShippingRateData::new(name);
        data.fixed_amount = Some(Fixed::new(amount, stripe_types::Currency::USD));
        let mut estimate = Estimate::new();
        estimate.minimum = Some(Min::new(MinUnit::BusinessDay, days));
        estimate.maximum = Some(Max::new(MaxUnit::BusinessDay, days + 2));
        data.delivery_estimate = Some(estimate);
        let mut option = CreateCheckoutSessionShippingOptions::new();
        option.shipping_rate_data = Some(data);
        option
    };
    CreateCheckoutSession::new()
        .mode(stripe_shared::CheckoutSessionMode::Payment)
        .line_items(vec![item])
        .success_url("http://app.test/done?session_id={CHECKOUT_SESSION_ID}")
        .shipping_address_collection(CreateCheckoutSessionShippingAddressCollection::new(vec![
            Country::Us,
            Country::Ca,
        ]))
        .shipping_options(vec![rate("Standard", 500, 3), rate("Express", 1500, 1)])
}

pub(crate) fn address(rate: Option<String>) -> ShippingChoice {
    ShippingChoice {
        name: "Ada Lovelace".into(),
        line1: "1 Main St".into(),
        city: "Springfield".into(),
        postal_code: "12345".into(),
        country: "US".into(),
        rate,
        ..ShippingChoice::default()
    }
}

#[tokio::test]
async fn a_session_collects_the_address_and_charges_the_chosen_rate() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let (http, base) = (http(), sim.base_url().to_owned());
        let session = shipped_session(&sim).send(&c).await.expect("session");
        let id = session.id.as_str().to_owned();
        let path = format!("/v1/checkout/sessions/{id}");
        let open = api_get(&http, &base, &path).await;
        let subtotal = open["amount_subtotal"].as_i64().expect("subtotal");
        assert_eq!(
            open["shipping_address_collection"]["allowed_countries"],
            serde_json::json!(["US", "CA"])
        );
        assert_eq!(open["shipping_options"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            open["shipping_cost"]["amount_total"], 500,
            "the first rate until one is chosen"
        );
        assert_eq!(open["amount_total"].as_i64(), Some(subtotal + 500));

        // The page asks for the address before any payment form, and refuses to be paid without it.
        let page = reqwest::get(format!("{base}/checkout/{id}"))
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(
            page.contains("Shipping address") && page.contains("Express"),
            "{page}"
        );
        assert!(!page.contains("card_number"), "no payment form yet");
        assert!(sim.act().asks_for_shipping(&id));
        let early = sim
            .act()
            .pay_checkout(&id, Some("a@x.io"), "4242424242424242");
        assert_eq!(
            early.expect_err("refused").param.as_deref(),
            Some("shipping_address")
        );
        let mut abroad = address(None);
        abroad.country = "FR".into();
        assert!(
            sim.act().choose_shipping(&id, &abroad).is_err(),
            "France is not offered"
        );

        let express = open["shipping_options"][1]["shipping_rate"]
            .as_str()
            .expect("rate")
            .to_owned();
        sim.act()
            .choose_shipping(&id, &address(Some(express.clone())))
            .expect("chosen");
        assert!(!sim.act().asks_for_shipping(&id), "the card form is next");
        sim.act()
            .pay_checkout(&id, Some("a@x.io"), "4242424242424242")
            .expect("paid");
        let paid = api_get(&http, &base, &path).await;
        assert_eq!(paid["amount_total"].as_i64(), Some(subtotal + 1500));
        assert_eq!(paid["total_details"]["amount_shipping"], 1500);
        assert_eq!(paid["shipping_cost"]["shipping_rate"], express.as_str());
        let details = &paid["collected_information"]["shipping_details"];
        assert_eq!(details["name"], "Ada Lovelace");
        assert_eq!(details["address"]["country"], "US");
        let pi = paid["payment_intent"].as_str().expect("pi");
        let intent = api_get(&http, &base, &format!("/v1/payment_intents/{pi}")).await;
        assert_eq!(
            intent["amount"].as_i64(),
            Some(subtotal + 1500),
            "what was charged"
        );
        assert_eq!(intent["shipping"]["address"]["line1"], "1 Main St");
        let charge = api_get(
            &http,
            &base,
            &format!(
                "/v1/charges/{}",
                intent["latest_charge"].as_str().expect("charge")
            ),
        )
        .await;
        assert_eq!(
            charge["shipping"]["name"], "Ada Lovelace",
            "the charge carries the intent's shipping"
        );
        let rate = api_get(&http, &base, &format!("/v1/shipping_rates/{express}")).await;
        assert_eq!(rate["display_name"], "Express");
        // The app reads the rate's name with the session, as Stripe expands it.
        let expanded = api_get(
            &http,
            &base,
            &format!("{path}?expand[]=shipping_cost.shipping_rate"),
        )
        .await;
        assert_eq!(
            expanded["shipping_cost"]["shipping_rate"]["display_name"],
            "Express"
        );
        assert_eq!(
            expanded["shipping_cost"]["shipping_rate"]["delivery_estimate"]["maximum"]["value"],
            3
        );
    })
    .await;
}

#[tokio::test]
async fn the_hosted_page_takes_the_address_then_the_card() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let base = sim.base_url().to_owned();
        let session = shipped_session(&sim).send(&c).await.expect("session");
        let url = format!("{base}/checkout/{}", session.id.as_str());
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let form = [
            ("shipping_name", "Grace Hopper"),
            ("shipping_line1", "2 Navy Way"),
            ("shipping_city", "Arlington"),
            ("shipping_postal_code", "22201"),
            ("shipping_country", "CA"),
        ];
        let step = browser
            .post(format!("{url}/shipping"))
            .form(&form)
            .send()
            .await
            .expect("post");
        assert_eq!(step.status(), 303);
        let page = text(reqwest::get(&url).await.expect("page")).await;
        assert!(
            page.contains("card_number") && page.contains("Ship to Grace Hopper"),
            "{page}"
        );
        let paid = pay(&browser, &url, "4242424242424242").await;
        assert_eq!(paid.status(), 303);
        let done = api_get(
            &http(),
            &base,
            &format!("/v1/checkout/sessions/{}", session.id.as_str()),
        )
        .await;
        assert_eq!(done["status"], "complete");
        assert_eq!(
            done["collected_information"]["shipping_details"]["address"]["country"],
            "CA"
        );
        assert_eq!(done["total_details"]["amount_shipping"], 500);
    })
    .await;
}

#[tokio::test]
async fn shipping_is_refused_where_stripe_refuses_it() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url().to_owned();
        let price = sim.price_id("pro_monthly").expect("plan");
        let mug = sim.price_id("goods_mug").expect("mug");
        let (status, err) = api_form(
            &base,
            "/v1/checkout/sessions",
            &[
                ("mode", "subscription"),
                ("success_url", "http://x/"),
                ("line_items[0][price]", &price),
                ("line_items[0][quantity]", "1"),
                ("shipping_address_collection[allowed_countries][0]", "US"),
            ],
        )
        .await;
        assert_eq!(status, 400, "{err}");
        assert_eq!(err["error"]["param"], "shipping_address_collection");
        let (_, eur) = api_form(
            &base,
            "/v1/shipping_rates",
            &[
                ("display_name", "EU"),
                ("fixed_amount[amount]", "700"),
                ("fixed_amount[currency]", "eur"),
            ],
        )
        .await;
        let eur_id = eur["id"].as_str().expect("id");
        let (status, err) = api_form(
            &base,
            "/v1/checkout/sessions",
            &[
                ("mode", "payment"),
                ("success_url", "http://x/"),
                ("line_items[0][price]", &mug),
                ("line_items[0][quantity]", "1"),
                ("shipping_options[0][shipping_rate]", eur_id),
            ],
        )
        .await;
        assert_eq!(status, 400, "{err}");
        assert_eq!(err["error"]["param"], "shipping_options[0][shipping_rate]");
        let (status, err) = api_form(
            &base,
            "/v1/checkout/sessions",
            &[
                ("mode", "payment"),
                ("success_url", "http://x/"),
                ("line_items[0][price]", &mug),
                ("line_items[0][quantity]", "1"),
                ("shipping_options[0][shipping_rate]", "shr_nope"),
            ],
        )
        .await;
        assert_eq!(status, 404, "{err}");
        assert_eq!(err["error"]["code"], "resource_missing");
    })
    .await;
}
