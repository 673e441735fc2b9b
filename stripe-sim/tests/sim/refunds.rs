//! Refunds of a paid goods order: partial, full, too large, already refunded, their events and
//! `Idempotency-Key`.

use serde_json::Value;
use stripe_core::charge::RetrieveCharge;
use stripe_core::refund::{CreateRefund, CreateRefundReason, ListRefund, RetrieveRefund};

use crate::common::*;
use crate::shop::*;

/// A paid order of one poster (25.00) and one mug (14.00); returns (PI id, charge id).
async fn paid_order(sim: &stripe_sim::Sim, c: &stripe::Client) -> (String, String) {
    let s = goods_session(sim, c, None, &[("goods_poster", 1), ("goods_mug", 1)]).await;
    sim.act()
        .pay_checkout(s.id.as_str(), Some("r@example.com"), "4242424242424242")
        .expect("paid");
    let charge = last_event(sim, "charge.succeeded")["data"]["object"].clone();
    let pi = charge["payment_intent"].as_str().expect("pi").to_owned();
    (pi, charge["id"].as_str().expect("id").to_owned())
}

async fn post_refund(base: &str, form: &[(&str, &str)], key: Option<&str>) -> (u16, Value) {
    let mut req = http()
        .post(format!("{base}/v1/refunds"))
        .bearer_auth(KEY)
        .form(form);
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    let resp = req.send().await.expect("post");
    (resp.status().as_u16(), resp.json().await.expect("json"))
}

/// Refunds what is left by charge (no amount) after a 14.00 refund, and reads it all back.
async fn refund_the_rest(
    sim: &stripe_sim::Sim,
    c: &stripe::Client,
    pi: &str,
    ch: &str,
    partial: stripe_shared::RefundId,
) {
    // The rest, by charge, without an amount.
    let rest = CreateRefund::new().charge(ch).send(c).await.expect("rest");
    assert_eq!(rest.amount, 2500);
    let charge = RetrieveCharge::new(ch).send(c).await.expect("charge");
    assert_eq!(charge.amount_refunded, 3900);
    assert!(charge.refunded);
    let listed = charge.refunds.expect("refunds").data;
    assert_eq!(
        listed.iter().map(|r| r.amount).collect::<Vec<_>>(),
        [2500, 1400]
    );
    let got = RetrieveRefund::new(partial)
        .send(c)
        .await
        .expect("retrieve");
    assert_eq!(
        got.metadata.and_then(|m| m.get("line").cloned()).as_deref(),
        Some("mug")
    );
    let by_pi = ListRefund::new()
        .payment_intent(pi)
        .send(c)
        .await
        .expect("list");
    assert_eq!(by_pi.data.len(), 2);
    let by_charge = ListRefund::new()
        .charge("ch_other")
        .send(c)
        .await
        .expect("list");
    assert!(by_charge.data.is_empty());
    let receipt = text(
        http()
            .get(format!("{}/receipts/{ch}", sim.base_url()))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert!(
        receipt.contains("Refunded") && receipt.contains("$39.00"),
        "receipt shows refunds"
    );
}

#[tokio::test]
async fn partial_then_full_refund() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let (pi, ch) = paid_order(&sim, &c).await;
        let before = sim.events().len();
        let partial = CreateRefund::new()
            .payment_intent(pi.as_str())
            .amount(1400)
            .reason(CreateRefundReason::RequestedByCustomer)
            .metadata(
                [("line".to_owned(), "mug".to_owned())]
                    .into_iter()
                    .collect::<std::collections::HashMap<_, _>>(),
            )
            .send(&c)
            .await
            .expect("partial refund");
        assert_eq!(partial.amount, 1400);
        assert_eq!(partial.status.as_deref(), Some("succeeded"));
        assert_eq!(
            partial.charge.as_ref().map(|c| c.id().as_str()),
            Some(ch.as_str())
        );
        assert_eq!(
            event_types_since(&sim, before),
            ["refund.created", "charge.refunded"]
        );
        let refunded = last_event(&sim, "charge.refunded");
        assert_eq!(refunded["data"]["object"]["amount_refunded"], 1400);
        assert_eq!(refunded["data"]["object"]["refunded"], false);
        assert_eq!(
            refunded["data"]["previous_attributes"]["amount_refunded"],
            0
        );
        refund_the_rest(&sim, &c, &pi, &ch, partial.id.clone()).await;
    })
    .await;
}

#[tokio::test]
async fn refund_errors_as_stripe() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let base = sim.base_url().to_owned();
        let (pi, ch) = paid_order(&sim, &c).await;
        let (status, body) =
            post_refund(&base, &[("payment_intent", &pi), ("amount", "4000")], None).await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], "amount_too_large");
        assert_eq!(
            body["error"]["message"],
            "Refund amount ($40.00) is greater than unrefunded amount on charge ($39.00)"
        );
        let nested = api_get(&http(), &base, &format!("/v1/charges/{ch}/refunds")).await;
        assert_eq!(nested["data"].as_array().map(Vec::len), Some(0));
        let (status, body) = post_refund(&base, &[("payment_intent", "pi_nope")], None).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("resource_missing"))
        );
        let (status, body) = post_refund(&base, &[("charge", "ch_nope")], None).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("resource_missing"))
        );
        let (status, _) =
            post_refund(&base, &[("payment_intent", &pi), ("reason", "bored")], None).await;
        assert_eq!(status, 400);
        let full = sim.act().refund(&pi, None).expect("full refund");
        let nested = api_get(&http(), &base, &format!("/v1/charges/{ch}/refunds")).await;
        assert_eq!(nested["data"][0]["id"], full.as_str());
        assert_eq!(nested["data"][0]["amount"], 3900);
        let before = sim.events().len();
        let (status, body) = post_refund(&base, &[("charge", &ch)], None).await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], "charge_already_refunded");
        assert_eq!(sim.events().len(), before, "a refused refund sends nothing");
    })
    .await;
}

#[tokio::test]
async fn refunds_are_idempotent_and_need_a_succeeded_payment() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let base = sim.base_url().to_owned();
        let (pi, _) = paid_order(&sim, &c).await;
        let form = [("payment_intent", pi.as_str()), ("amount", "500")];
        let (s1, first) = post_refund(&base, &form, Some("refund-1")).await;
        let (s2, again) = post_refund(&base, &form, Some("refund-1")).await;
        assert_eq!((s1, s2), (200, 200));
        assert_eq!(first["id"], again["id"]);
        let all = ListRefund::new()
            .payment_intent(pi.as_str())
            .send(&c)
            .await
            .expect("list");
        assert_eq!(all.data.len(), 1, "the replay refunded nothing more");
        // A bank debit still processing cannot be refunded yet.
        let s = goods_session(&sim, &c, None, &[("goods_stickers", 1)]).await;
        sim.act()
            .pay_checkout_with_bank(s.id.as_str(), Some("b@x.io"), "000123456789")
            .expect("bank");
        let processing =
            last_event(&sim, "checkout.session.completed")["data"]["object"]["payment_intent"]
                .as_str()
                .expect("pi")
                .to_owned();
        let (status, body) = post_refund(&base, &[("payment_intent", &processing)], None).await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["type"], "invalid_request_error");
    })
    .await;
}
