//! Payment-mode Checkout for the shop's goods: the hosted page, the PaymentIntent and Charge it
//! creates (read back through async-stripe), the events and the receipt page.

use std::time::Duration;

use stripe_checkout::checkout_session::RetrieveCheckoutSession;
use stripe_core::charge::{ListCharge, RetrieveCharge};
use stripe_core::payment_intent::{ListPaymentIntent, RetrievePaymentIntent};
use stripe_shared::{ChargeStatus, PaymentIntentStatus};

use crate::common::*;
use crate::shop::*;

/// Two mugs (2 × 14.00) and three sticker packs (3 × 5.00): 43.00.
const TOTAL: i64 = 4300;

async fn check_page(url: &str) {
    let page = text(http().get(url).send().await.expect("get")).await;
    for part in [
        "Storefront mug × 2",
        "$28.00",
        "Sticker pack × 3",
        "$15.00",
        "$43.00",
        ">Pay<",
        "US bank account (test, settles later)",
    ] {
        assert!(page.contains(part), "page lacks {part}");
    }
}

async fn check_intent(c: &stripe::Client, pi: &str, customer: &str) -> String {
    let intent = RetrievePaymentIntent::new(pi)
        .expand(vec!["latest_charge".to_owned()])
        .send(c)
        .await
        .expect("retrieve intent");
    assert_eq!(intent.status, PaymentIntentStatus::Succeeded);
    assert_eq!((intent.amount, intent.amount_received), (TOTAL, TOTAL));
    assert_eq!(intent.currency, stripe_types::Currency::USD);
    assert_eq!(
        intent.customer.as_ref().map(|c| c.id().as_str()),
        Some(customer)
    );
    assert_eq!(
        intent.metadata.get("order_id").map(String::as_str),
        Some("ord_42")
    );
    assert_eq!(
        intent.metadata.len(),
        1,
        "only payment_intent_data[metadata]"
    );
    assert_eq!(intent.payment_method_types, ["card"]);
    assert!(!intent.livemode);
    let charge = intent
        .latest_charge
        .as_ref()
        .and_then(|c| c.as_object())
        .expect("expanded");
    assert_eq!(charge.status, ChargeStatus::Succeeded);
    assert_eq!(
        (
            charge.amount,
            charge.amount_captured,
            charge.amount_refunded
        ),
        (TOTAL, TOTAL, 0)
    );
    assert!(charge.paid && charge.captured && !charge.refunded);
    assert_eq!(
        charge.payment_intent.as_ref().map(|p| p.id().as_str()),
        Some(pi)
    );
    assert_eq!(charge.metadata, intent.metadata);
    let card = charge
        .payment_method_details
        .as_ref()
        .and_then(|d| d.card.as_ref());
    assert_eq!(card.and_then(|c| c.last4.as_deref()), Some("4242"));
    assert_eq!(card.and_then(|c| c.brand.as_deref()), Some("visa"));
    assert_eq!(
        charge.billing_details.email.as_deref(),
        Some("buyer@example.com")
    );
    charge.id.as_str().to_owned()
}

async fn check_lists(c: &stripe::Client, pi: &str, ch: &str, customer: &str) {
    let by_customer = ListPaymentIntent::new()
        .customer(customer)
        .send(c)
        .await
        .expect("list");
    let ids: Vec<&str> = by_customer.data.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, [pi]);
    let none = ListPaymentIntent::new()
        .customer("cus_other")
        .send(c)
        .await
        .expect("list");
    assert!(none.data.is_empty());
    let charges = ListCharge::new()
        .payment_intent(pi)
        .send(c)
        .await
        .expect("charges");
    assert_eq!(charges.data.len(), 1);
    assert_eq!(charges.data[0].id.as_str(), ch);
    let by_customer = ListCharge::new()
        .customer(customer)
        .send(c)
        .await
        .expect("charges");
    assert_eq!(by_customer.data.len(), 1);
    let charge = RetrieveCharge::new(ch).send(c).await.expect("charge");
    assert_eq!(
        charge
            .receipt_url
            .as_deref()
            .map(|u| u.ends_with(&format!("/receipts/{ch}"))),
        Some(true)
    );
}

async fn check_receipt(base: &str, ch: &str) {
    let receipt = text(
        http()
            .get(format!("{base}/receipts/{ch}"))
            .send()
            .await
            .expect("receipt"),
    )
    .await;
    assert!(
        receipt.contains("Storefront mug × 2") && receipt.contains("$43.00"),
        "receipt"
    );
}

/// Every event reached the app and parsed into async-stripe's typed event objects.
async fn check_webhooks(sim: &stripe_sim::Sim, inbox: &Inbox) {
    assert!(sim.wait_for_deliveries(Duration::from_secs(10)).await);
    let charge_event = inbox.wait_for_type("charge.succeeded").await;
    assert!(matches!(
        charge_event.event.data.object,
        stripe_webhook::EventObject::ChargeSucceeded(_)
    ));
    let pi_event = inbox.wait_for_type("payment_intent.succeeded").await;
    assert!(matches!(
        pi_event.event.data.object,
        stripe_webhook::EventObject::PaymentIntentSucceeded(_)
    ));
    inbox.wait_for_type("checkout.session.completed").await;
    assert!(
        inbox.rejected.lock().expect("lock").is_empty(),
        "{:?}",
        inbox.rejected
    );
}

#[tokio::test]
async fn goods_paid_by_card_create_intent_and_charge() {
    bounded(async {
        let (sim, inbox) = sim_with_hook().await;
        let c = client(&sim);
        let cus = customer(&c, "shop@example.com").await;
        let s = goods_session(
            &sim,
            &c,
            Some(cus.id.as_str()),
            &[("goods_mug", 2), ("goods_stickers", 3)],
        )
        .await;
        assert_eq!(s.amount_total, Some(TOTAL));
        let url = s.url.clone().expect("url");
        check_page(&url).await;
        let before = sim.events().len();
        let resp = pay(&http(), &url, "4242424242424242").await;
        assert_eq!(
            location(&resp),
            format!("http://app.test/orders/done?session_id={}", s.id)
        );
        let paid_types: Vec<String> = event_types_since(&sim, before)
            .into_iter()
            .filter(|t| !t.starts_with("customer."))
            .collect();
        assert_eq!(
            paid_types,
            [
                "charge.succeeded",
                "payment_intent.succeeded",
                "checkout.session.completed"
            ]
        );
        let done = RetrieveCheckoutSession::new(s.id.clone())
            .send(&c)
            .await
            .expect("session");
        assert_eq!(
            done.status,
            Some(stripe_shared::CheckoutSessionStatus::Complete)
        );
        assert_eq!(
            done.payment_status,
            stripe_shared::CheckoutSessionPaymentStatus::Paid
        );
        let pi = done.payment_intent.expect("pi").id().as_str().to_owned();
        assert_eq!(
            last_event(&sim, "checkout.session.completed")["data"]["object"]["payment_intent"],
            pi.as_str()
        );
        let ch = check_intent(&c, &pi, cus.id.as_str()).await;
        check_lists(&c, &pi, &ch, cus.id.as_str()).await;
        check_receipt(sim.base_url(), &ch).await;
        check_webhooks(&sim, &inbox).await;
    })
    .await;
}

#[tokio::test]
async fn a_declined_card_creates_no_payment() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let s = goods_session(&sim, &c, None, &[("goods_hoodie", 1)]).await;
        let resp = pay(&http(), s.url.as_deref().expect("url"), "4000000000000002").await;
        assert_eq!(resp.status(), 402);
        let intents = ListPaymentIntent::new().send(&c).await.expect("list");
        assert!(intents.data.is_empty());
        let open = RetrieveCheckoutSession::new(s.id.clone())
            .send(&c)
            .await
            .expect("session");
        assert_eq!(
            open.status,
            Some(stripe_shared::CheckoutSessionStatus::Open)
        );
        assert!(open.payment_intent.is_none());
        let missing = http()
            .get(format!("{}/v1/payment_intents/pi_missing", sim.base_url()))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("get");
        assert_eq!(missing.status(), 404);
        let body: serde_json::Value = missing.json().await.expect("json");
        assert_eq!(body["error"]["code"], "resource_missing");
    })
    .await;
}

/// A guest's payment (no customer passed): with `customer_creation=always` Checkout makes the
/// customer from the e-mail entered, as Stripe does; with the default `if_required` it makes none.
#[tokio::test]
async fn customer_creation_always_makes_a_customer_for_a_guest() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url().to_owned();
        let stickers = sim.price_id("goods_stickers").expect("stickers");
        for (creation, makes) in [(Some("always"), true), (None, false)] {
            let mut params = vec![
                ("mode", "payment"),
                ("success_url", "http://x/"),
                ("line_items[0][price]", stickers.as_str()),
                ("line_items[0][quantity]", "1"),
            ];
            if let Some(creation) = creation {
                params.push(("customer_creation", creation));
            }
            let (status, session) = api_form(&base, "/v1/checkout/sessions", &params).await;
            assert_eq!(status, 200, "{session}");
            let id = session["id"].as_str().expect("id");
            sim.act()
                .pay_checkout(id, Some("guest@x.io"), "4242424242424242")
                .expect("paid");
            let paid = api_get(&http(), &base, &format!("/v1/checkout/sessions/{id}")).await;
            assert_eq!(paid["customer_details"]["email"], "guest@x.io");
            assert_eq!(paid["customer"].is_string(), makes, "{creation:?}: {paid}");
            if makes {
                let customer = paid["customer"].as_str().expect("customer");
                let made = api_get(&http(), &base, &format!("/v1/customers/{customer}")).await;
                assert_eq!(made["email"], "guest@x.io");
            }
        }
    })
    .await;
}
