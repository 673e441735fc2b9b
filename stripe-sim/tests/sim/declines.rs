//! One decline table for both payment engines: a test card declined on hosted Checkout and in a
//! PaymentIntent confirm gives the same error (type, code, decline code, message, `doc_url`).

use serde_json::{Value, json};

use crate::common::*;
use crate::intent_helpers::*;
use crate::shop::*;

/// The decline-relevant part of an error, as `{type, code, decline_code, message, doc_url}`.
fn decline_of(error: &Value) -> Value {
    json!({
        "type": error["type"],
        "code": error["code"],
        "decline_code": error["decline_code"],
        "message": error["message"],
        "doc_url": error["doc_url"],
    })
}

/// The hosted page's decline for `card` on a fresh payment-mode session.
async fn hosted_decline(sim: &stripe_sim::Sim, card: &str) -> (u16, Value) {
    let c = client(sim);
    let session = goods_session(sim, &c, None, &[("goods_mug", 1)]).await;
    let error = sim
        .act()
        .pay_checkout(session.id.as_str(), None, card)
        .expect_err("declined on the hosted page");
    let as_json = json!({
        "type": error.kind,
        "code": error.code,
        "decline_code": error.decline_code,
        "message": error.message,
        "doc_url": error.detail("doc_url"),
    });
    (error.status.as_u16(), decline_of(&as_json))
}

/// The confirm's decline for `card` on a fresh API intent, and the intent's `last_payment_error`.
async fn confirm_decline(base: &str, card_number: &str) -> (u16, Value, Value) {
    let pi = intent(base, &[]).await;
    let pm = card(base, card_number).await;
    let (status, body) = confirm(base, &pi, &pm, None).await;
    let last = &body["error"]["payment_intent"]["last_payment_error"];
    (status, decline_of(&body["error"]), decline_of(last))
}

#[tokio::test]
async fn both_engines_decline_a_test_card_alike() {
    bounded(async {
        let sim = sim().await;
        let declines = [
            (
                "4000000000000002",
                "generic_decline",
                "Your card was declined.",
            ),
            (
                "4000000000009995",
                "insufficient_funds",
                "Your card has insufficient funds.",
            ),
        ];
        for (card, decline_code, message) in declines {
            let (hosted_status, hosted) = hosted_decline(&sim, card).await;
            let (confirm_status, confirmed, last) = confirm_decline(sim.base_url(), card).await;
            assert_eq!((hosted_status, confirm_status), (402, 402), "{card}");
            assert_eq!(hosted, confirmed, "{card}: same error from both engines");
            assert_eq!(
                hosted,
                json!({
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": decline_code,
                    "message": message,
                    "doc_url": "https://docs.stripe.com/error-codes/card-declined",
                }),
                "{card}"
            );
            let codes = |v: &Value| (v["code"].clone(), v["decline_code"].clone());
            assert_eq!(codes(&last), codes(&hosted), "{card}: last_payment_error");
        }
    })
    .await;
}

#[tokio::test]
async fn a_card_declined_only_off_session_pays_on_both_engines() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let session = goods_session(&sim, &c, None, &[("goods_mug", 1)]).await;
        let paid = sim
            .act()
            .pay_checkout(session.id.as_str(), None, "4000000000000341");
        assert!(paid.is_ok(), "{paid:?}");
        let pi = intent(sim.base_url(), &[]).await;
        let id = pi["id"].as_str().expect("id");
        assert_eq!(
            sim.act().confirm_intent(id, "4000000000000341").as_deref(),
            Ok("succeeded")
        );
    })
    .await;
}
