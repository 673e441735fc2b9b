//! PaymentIntents over the API, as a script or Stripe.js pays on the app's own page: create
//! (secret key), a card PaymentMethod and confirm (publishable key + client secret), declines
//! and retries, and the hosted 3-D Secure step. Rules and validation are in `intent_rules`.

use serde_json::Value;
use stripe_core::payment_intent::{
    ConfirmPaymentIntent, CreatePaymentIntent, RetrievePaymentIntent,
};

use crate::common::*;
use crate::intent_helpers::*;

/// async-stripe reads the paid intent, with its PaymentMethod expanded.
async fn assert_parsed(c: &stripe::Client, id: &str) {
    let confirmed = RetrievePaymentIntent::new(id)
        .expand(["payment_method".to_owned()])
        .send(c)
        .await
        .expect("async-stripe parses the intent");
    assert_eq!(confirmed.status.as_str(), "succeeded");
    assert_eq!(confirmed.amount_received, 1400);
    let method = confirmed
        .payment_method
        .as_ref()
        .and_then(|m| m.as_object())
        .expect("expanded");
    let card_details = method.card.as_ref().expect("card");
    assert_eq!(
        (card_details.brand.as_str(), card_details.last4.as_str()),
        ("visa", "4242")
    );
}

/// The Charge of a paid 14.00 intent (`order_id` 42, receipt to buyer@example.com).
async fn assert_charge(base: &str, intent: &Value) {
    let id = intent["id"].as_str().expect("id");
    let ch = intent["latest_charge"].as_str().expect("latest_charge");
    let (_, charge) = get(base, &format!("/v1/charges/{ch}"), KEY).await;
    assert_eq!(charge["status"], "succeeded");
    assert_eq!(charge["paid"], true);
    assert_eq!(charge["amount"], 1400);
    assert_eq!(charge["payment_intent"], id);
    assert_eq!(charge["metadata"]["order_id"], "42");
    assert_eq!(charge["receipt_email"], "buyer@example.com");
    assert_eq!(charge["payment_method_details"]["card"]["last4"], "4242");
    let receipt = charge["receipt_url"].as_str().expect("receipt_url");
    assert_eq!(receipt, format!("{base}/receipts/{ch}"));
    assert_eq!(
        http().get(receipt).send().await.expect("receipt").status(),
        200
    );
}

#[tokio::test]
async fn create_and_confirm_with_4242_succeeds_with_a_charge() {
    bounded(async {
        let (sim, inbox) = sim_with_hook().await;
        let c = client(&sim);
        let base = sim.base_url();
        let created = CreatePaymentIntent::new(1400, stripe_types::Currency::USD)
            .metadata(std::collections::HashMap::from([(
                "order_id".to_owned(),
                "42".to_owned(),
            )]))
            .description("Order 42")
            .receipt_email("buyer@example.com")
            .send(&c)
            .await
            .expect("create");
        assert_eq!(created.status.as_str(), "requires_payment_method");
        let id = created.id.as_str().to_owned();
        let secret = created.client_secret.clone().expect("client secret");
        assert!(secret.starts_with(&format!("{id}_secret_")), "{secret}");
        let (_, pi) = get(base, &format!("/v1/payment_intents/{id}"), KEY).await;
        let pm = card(base, "4242424242424242").await;
        let (status, body) = confirm(base, &pi, &pm, None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "succeeded");
        assert_parsed(&c, &id).await;
        assert_eq!(body["payment_method"], pm.as_str());
        assert_eq!(body["next_action"], Value::Null);
        // A publishable key sees the browser's view; the server sees the whole intent.
        assert_eq!(
            (&body["metadata"], &body["latest_charge"]),
            (&Value::Null, &Value::Null)
        );
        let (_, full) = get(base, &format!("/v1/payment_intents/{id}"), KEY).await;
        assert_shape("payment_intent", &full);
        assert_charge(base, &full).await;
        assert_eq!(
            event_types(&sim),
            [
                "payment_intent.created",
                "charge.succeeded",
                "payment_intent.succeeded"
            ]
        );
        inbox.wait_for_type("payment_intent.succeeded").await;
        assert!(inbox.types().contains(&"payment_intent.created".to_owned()));
        // A paid intent can be refunded like a Checkout payment.
        assert!(sim.act().refund(&id, Some(400)).is_ok());
    })
    .await;
}

/// A declined confirm's 402 body: the card error with the charge, PaymentMethod and intent.
fn assert_declined(body: &Value, id: &str, pm: &str, decline_code: &str) {
    let error = &body["error"];
    assert_eq!(error["type"], "card_error");
    assert_eq!(error["code"], "card_declined");
    assert_eq!(error["decline_code"], decline_code);
    assert!(
        error["charge"]
            .as_str()
            .is_some_and(|c| c.starts_with("ch_"))
    );
    assert_eq!(error["payment_method"]["id"], pm);
    let failed = &error["payment_intent"];
    assert_eq!(failed["id"], id);
    assert_eq!(failed["status"], "requires_payment_method");
    assert_eq!(failed["payment_method"], Value::Null);
    assert_eq!(failed["last_payment_error"]["code"], "card_declined");
    assert_eq!(failed["last_payment_error"]["decline_code"], decline_code);
}

/// async-stripe reads a decline: its error carries the intent and the PaymentMethod.
async fn decline_with_async_stripe(sim: &stripe_sim::Sim, id: &str) {
    let base = sim.base_url();
    let declined = card(base, "4000000000000002").await;
    let c = client(sim);
    let err = ConfirmPaymentIntent::new(id)
        .payment_method(declined.as_str())
        .send(&c)
        .await
        .expect_err("declined");
    let stripe::StripeError::Stripe(errors, 402) = err else {
        panic!("not a 402 card error: {err:?}");
    };
    let failed = errors.payment_intent.expect("payment_intent");
    assert_eq!(failed.status.as_str(), "requires_payment_method");
    let method = errors.payment_method.expect("payment_method");
    assert_eq!(method.card.map(|c| c.last4).as_deref(), Some("0002"));
}

#[tokio::test]
async fn a_declined_card_leaves_the_intent_payable() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url();
        let pi = intent(base, &[("metadata[order_id]", "7")]).await;
        let id = pi["id"].as_str().expect("id");
        for (number, decline_code) in [
            ("4000000000000002", "generic_decline"),
            ("4000000000009995", "insufficient_funds"),
        ] {
            let pm = card(base, number).await;
            let (status, body) = confirm(base, &pi, &pm, None).await;
            assert_eq!(status, 402, "{body}");
            assert_declined(&body, id, &pm, decline_code);
        }
        decline_with_async_stripe(&sim, id).await;
        let pm = card(base, "4242424242424242").await;
        let (status, body) = confirm(base, &pi, &pm, None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "succeeded");
        assert_eq!(body["last_payment_error"], Value::Null);
        let (_, charges) = get(base, &format!("/v1/charges?payment_intent={id}"), KEY).await;
        let statuses: Vec<&str> = charges["data"]
            .as_array()
            .expect("data")
            .iter()
            .filter_map(|c| c["status"].as_str())
            .collect();
        assert_eq!(statuses, ["succeeded", "failed", "failed", "failed"]);
        assert_eq!(charges["data"][1]["failure_code"], "card_declined");
        assert_eq!(
            charges["data"][2]["outcome"]["reason"],
            "insufficient_funds"
        );
        assert_eq!(
            event_types(&sim),
            [
                "payment_intent.created",
                "charge.failed",
                "payment_intent.payment_failed",
                "charge.failed",
                "payment_intent.payment_failed",
                "charge.failed",
                "payment_intent.payment_failed",
                "charge.succeeded",
                "payment_intent.succeeded",
            ]
        );
        // Paid: confirming again is refused.
        let (status, body) = confirm(base, &pi, &pm, None).await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], "payment_intent_unexpected_state");
    })
    .await;
}

#[tokio::test]
async fn three_d_secure_completed_on_the_hosted_page_pays_and_returns() {
    bounded(async {
        let (sim, inbox) = sim_with_hook().await;
        let base = sim.base_url();
        let pi = intent(base, &[]).await;
        let id = pi["id"].as_str().expect("id");
        let url = requires_action(base, &pi, Some("http://app.test/done?order=1")).await;
        assert_eq!(
            event_types(&sim),
            ["payment_intent.created", "payment_intent.requires_action"]
        );
        let parsed = RetrievePaymentIntent::new(id)
            .send(&client(&sim))
            .await
            .expect("async-stripe parses next_action");
        let redirect = parsed.next_action.and_then(|a| a.redirect_to_url);
        assert_eq!(redirect.and_then(|r| r.url).as_deref(), Some(url.as_str()));
        // A link without the right client secret is refused.
        let forged = format!("{base}/3ds/{id}?client_secret=nope");
        assert_eq!(http().get(&forged).send().await.expect("get").status(), 400);
        let resp = press(&url, &pi, "complete").await;
        assert_eq!(resp.status(), 303);
        let secret = pi["client_secret"].as_str().expect("secret");
        assert_eq!(
            location(&resp),
            format!(
                "http://app.test/done?order=1&payment_intent={id}&payment_intent_client_secret={secret}&redirect_status=succeeded"
            )
        );
        let (_, after) = get(base, &format!("/v1/payment_intents/{id}"), KEY).await;
        assert_eq!(after["status"], "succeeded");
        assert_eq!(after["next_action"], Value::Null);
        assert!(after["latest_charge"].as_str().is_some());
        assert_eq!(
            event_types(&sim)[2..],
            ["charge.succeeded", "payment_intent.succeeded"]
        );
        // async-stripe's webhook parser reads the new event types.
        inbox.wait_for_type("payment_intent.requires_action").await;
        inbox.wait_for_type("payment_intent.succeeded").await;
        assert!(inbox.rejected.lock().expect("lock").is_empty());
    })
    .await;
}

#[tokio::test]
async fn three_d_secure_failed_needs_a_new_payment_method() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url();
        let pi = intent(base, &[]).await;
        let id = pi["id"].as_str().expect("id");
        let url = requires_action(base, &pi, None).await;
        let resp = press(&url, &pi, "fail").await;
        assert_eq!(resp.status(), 200);
        assert!(text(resp).await.contains("You may close this window"));
        let (_, after) = get(base, &format!("/v1/payment_intents/{id}"), KEY).await;
        assert_eq!(after["status"], "requires_payment_method");
        assert_eq!(after["payment_method"], Value::Null);
        assert_eq!(after["latest_charge"], Value::Null);
        let error = &after["last_payment_error"];
        assert_eq!(error["code"], "payment_intent_authentication_failure");
        assert_eq!(
            event_types(&sim),
            [
                "payment_intent.created",
                "payment_intent.requires_action",
                "payment_intent.payment_failed",
            ]
        );
        // The Sim helpers: 3220 asks again, completing pays; nothing left to authenticate then.
        assert_eq!(
            sim.act().confirm_intent(id, "4000000000003220").as_deref(),
            Ok("requires_action")
        );
        assert_eq!(
            sim.act().authenticate_intent(id, true).as_deref(),
            Ok("succeeded")
        );
        assert!(sim.act().authenticate_intent(id, false).is_err());
        let declined = sim
            .act()
            .confirm_intent(id, "4000000000000002")
            .expect_err("already paid");
        assert_eq!(
            declined.code.as_deref(),
            Some("payment_intent_unexpected_state")
        );
    })
    .await;
}

#[tokio::test]
async fn sim_helper_declines_carry_the_intent() {
    bounded(async {
        let sim = sim().await;
        let pi = intent(sim.base_url(), &[]).await;
        let id = pi["id"].as_str().expect("id");
        let e = sim
            .act()
            .confirm_intent(id, "4000000000000002")
            .expect_err("declined");
        assert_eq!(e.status.as_u16(), 402);
        assert_eq!(e.decline_code, Some("generic_decline"));
        assert_eq!(
            e.detail("payment_intent").map(|p| &p["status"]),
            Some(&Value::from("requires_payment_method"))
        );
        assert_eq!(
            sim.act().confirm_intent(id, "4242424242424242").as_deref(),
            Ok("succeeded")
        );
    })
    .await;
}

/// Stripe charges three-decimal currencies (KWD and its kin) in thousandths, and KRW in whole won.
#[tokio::test]
async fn intents_take_three_decimal_and_zero_decimal_currencies() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url();
        for (currency, amount) in [("kwd", "13240"), ("bhd", "5000"), ("krw", "15000")] {
            let (status, pi) = api_form(
                base,
                "/v1/payment_intents",
                &[("amount", amount), ("currency", currency)],
            )
            .await;
            assert_eq!(status, 200, "{currency}: {pi}");
            let pm = card(base, "4242424242424242").await;
            let (status, paid) = confirm(base, &pi, &pm, None).await;
            assert_eq!(status, 200, "{paid}");
            assert_eq!(paid["status"], "succeeded");
            let (_, full) = get(
                base,
                &format!("/v1/payment_intents/{}", pi["id"].as_str().expect("id")),
                KEY,
            )
            .await;
            assert_eq!(full["amount_received"].to_string(), amount);
            assert_eq!(full["currency"], currency);
        }
    })
    .await;
}
