//! Bank debits (US bank account test numbers): the session completes unpaid at once and the
//! debit settles, or fails, when the clock passes completion + 60 s.

use std::time::Duration;

use stripe_checkout::checkout_session::RetrieveCheckoutSession;
use stripe_core::charge::RetrieveCharge;
use stripe_core::payment_intent::RetrievePaymentIntent;
use stripe_shared::{
    ChargeStatus, CheckoutSessionPaymentStatus, CheckoutSessionStatus, PaymentIntentStatus,
};

use crate::common::*;
use crate::shop::*;

/// A one-hoodie session paid with `account` on the hosted bank form; returns (session id, PI id).
async fn pay_hoodie_by_bank(
    sim: &stripe_sim::Sim,
    c: &stripe::Client,
    account: &str,
) -> (String, String) {
    let s = goods_session(sim, c, None, &[("goods_hoodie", 1)]).await;
    let before = sim.events().len();
    let resp = pay_bank(&http(), s.url.as_deref().expect("url"), account).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        location(&resp),
        format!("http://app.test/orders/done?session_id={}", s.id)
    );
    assert_eq!(
        event_types_since(sim, before),
        ["checkout.session.completed"]
    );
    let done = RetrieveCheckoutSession::new(s.id.clone())
        .send(c)
        .await
        .expect("session");
    assert_eq!(done.status, Some(CheckoutSessionStatus::Complete));
    assert_eq!(done.payment_status, CheckoutSessionPaymentStatus::Unpaid);
    let pi = done.payment_intent.expect("pi").id().as_str().to_owned();
    let intent = RetrievePaymentIntent::new(pi.as_str())
        .send(c)
        .await
        .expect("intent");
    assert_eq!(intent.status, PaymentIntentStatus::Processing);
    assert_eq!(intent.amount_received, 0);
    assert_eq!(
        intent.metadata.get("order_id").map(String::as_str),
        Some("ord_42")
    );
    let ch = intent
        .latest_charge
        .expect("charge")
        .id()
        .as_str()
        .to_owned();
    let charge = RetrieveCharge::new(ch.as_str())
        .send(c)
        .await
        .expect("charge");
    assert_eq!(charge.status, ChargeStatus::Pending);
    assert!(!charge.paid);
    let bank = charge
        .payment_method_details
        .and_then(|d| d.us_bank_account)
        .expect("bank details");
    assert_eq!(bank.last4.as_deref(), Some(&account[account.len() - 4..]));
    (s.id.as_str().to_owned(), pi)
}

/// Advances 59 s (nothing settles) and then 2 s more; the event types the settlement sent.
fn settle(sim: &stripe_sim::Sim) -> Vec<String> {
    let before = sim.events().len();
    sim.advance_clock(Duration::from_secs(59)).expect("advance");
    assert!(
        event_types_since(sim, before).is_empty(),
        "settles only after 60 s"
    );
    sim.advance_clock(Duration::from_secs(2)).expect("advance");
    event_types_since(sim, before)
}

#[tokio::test]
async fn bank_debit_settles_after_a_minute() {
    bounded(async {
        let (sim, inbox) = sim_with_hook().await;
        let c = client(&sim);
        let (session, pi) = pay_hoodie_by_bank(&sim, &c, "000123456789").await;
        assert_eq!(
            settle(&sim),
            [
                "charge.succeeded",
                "payment_intent.succeeded",
                "checkout.session.async_payment_succeeded"
            ]
        );
        let intent = RetrievePaymentIntent::new(pi.as_str())
            .expand(vec!["latest_charge".to_owned()])
            .send(&c)
            .await
            .expect("intent");
        assert_eq!(intent.status, PaymentIntentStatus::Succeeded);
        assert_eq!(intent.amount_received, 4900);
        let charge = intent
            .latest_charge
            .and_then(|c| c.into_object())
            .expect("expanded");
        assert_eq!(charge.status, ChargeStatus::Succeeded);
        assert!(charge.paid);
        let done = RetrieveCheckoutSession::new(session.as_str())
            .send(&c)
            .await
            .expect("session");
        assert_eq!(done.payment_status, CheckoutSessionPaymentStatus::Paid);
        let event = last_event(&sim, "checkout.session.async_payment_succeeded");
        assert_eq!(event["data"]["object"]["payment_status"], "paid");
        assert!(sim.wait_for_deliveries(Duration::from_secs(10)).await);
        let received = inbox
            .wait_for_type("checkout.session.async_payment_succeeded")
            .await;
        assert!(matches!(
            received.event.data.object,
            stripe_webhook::EventObject::CheckoutSessionAsyncPaymentSucceeded(_)
        ));
        assert!(inbox.rejected.lock().expect("lock").is_empty());
    })
    .await;
}

#[tokio::test]
async fn bank_debit_of_a_closed_account_fails() {
    bounded(async {
        let (sim, inbox) = sim_with_hook().await;
        let c = client(&sim);
        let (session, pi) = pay_hoodie_by_bank(&sim, &c, "000111111113").await;
        assert_eq!(
            settle(&sim),
            [
                "charge.failed",
                "payment_intent.payment_failed",
                "checkout.session.async_payment_failed"
            ]
        );
        let intent = RetrievePaymentIntent::new(pi.as_str())
            .send(&c)
            .await
            .expect("intent");
        assert_eq!(intent.status, PaymentIntentStatus::RequiresPaymentMethod);
        let error = intent.last_payment_error.expect("last_payment_error");
        assert_eq!(
            error.code.as_ref().map(|c| c.as_str()),
            Some("account_closed")
        );
        let ch = intent
            .latest_charge
            .expect("charge")
            .id()
            .as_str()
            .to_owned();
        let charge = RetrieveCharge::new(ch.as_str())
            .send(&c)
            .await
            .expect("charge");
        assert_eq!(charge.status, ChargeStatus::Failed);
        assert!(!charge.paid);
        assert_eq!(charge.failure_code.as_deref(), Some("account_closed"));
        assert!(charge.failure_message.is_some());
        let done = RetrieveCheckoutSession::new(session.as_str())
            .send(&c)
            .await
            .expect("session");
        assert_eq!(done.status, Some(CheckoutSessionStatus::Complete));
        assert_eq!(done.payment_status, CheckoutSessionPaymentStatus::Unpaid);
        // Refunding a failed payment is refused.
        assert!(sim.act().refund(&pi, None).is_err());
        assert!(sim.wait_for_deliveries(Duration::from_secs(10)).await);
        inbox
            .wait_for_type("checkout.session.async_payment_failed")
            .await;
        assert!(inbox.rejected.lock().expect("lock").is_empty());
    })
    .await;
}

#[tokio::test]
async fn unknown_account_numbers_are_refused() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let s = goods_session(&sim, &c, None, &[("goods_mug", 1)]).await;
        let resp = pay_bank(&http(), s.url.as_deref().expect("url"), "000999999999").await;
        assert_eq!(resp.status(), 400);
        assert!(
            text(resp).await.contains("000123456789"),
            "the page names the test numbers"
        );
        let open = RetrieveCheckoutSession::new(s.id.clone())
            .send(&c)
            .await
            .expect("session");
        assert_eq!(open.status, Some(CheckoutSessionStatus::Open));
        // The same through the Sim method; a subscription session has no bank form.
        assert!(
            sim.act()
                .pay_checkout_with_bank(s.id.as_str(), None, "123")
                .is_err()
        );
        let sub = session(&sim, &c, None, "basic_monthly", None).await;
        assert!(
            sim.act()
                .pay_checkout_with_bank(sub.id.as_str(), Some("a@b.c"), "000123456789")
                .is_err()
        );
        let outcome = sim
            .act()
            .pay_checkout_with_bank(s.id.as_str(), Some("a@b.c"), "000123456789")
            .expect("bank payment");
        assert_eq!(
            outcome,
            stripe_sim::PayOutcome::Redirect(format!(
                "http://app.test/orders/done?session_id={}",
                s.id
            ))
        );
    })
    .await;
}

/// `allowed_payment_method_types=[card]` (the shop's goods: no debit that settles days later may hold
/// stock): the hosted page offers no bank form and a bank debit is refused; the session says so.
#[tokio::test]
async fn a_session_allowing_cards_alone_refuses_a_bank_debit() {
    use stripe_checkout::checkout_session::{
        CreateCheckoutSession, CreateCheckoutSessionAllowedPaymentMethodTypes,
        CreateCheckoutSessionLineItems,
    };
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let mut line = CreateCheckoutSessionLineItems::new();
        line.price = Some(sim.price_id("goods_mug").expect("seeded good"));
        line.quantity = Some(1);
        let s = CreateCheckoutSession::new()
            .mode(stripe_shared::CheckoutSessionMode::Payment)
            .line_items(vec![line])
            .allowed_payment_method_types(vec![
                CreateCheckoutSessionAllowedPaymentMethodTypes::Card,
            ])
            .success_url("http://app.test/done")
            .send(&c)
            .await
            .expect("session");
        assert_eq!(
            s.payment_method_types
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            ["card"]
        );
        let page = text(
            http()
                .get(s.url.as_deref().expect("url"))
                .send()
                .await
                .expect("page"),
        )
        .await;
        assert!(!page.contains("pay_bank"), "no bank form");
        let refused = pay_bank(&http(), s.url.as_deref().expect("url"), "000123456789").await;
        assert_eq!(refused.status(), 400);
        assert!(
            sim.act()
                .pay_checkout_with_bank(s.id.as_str(), Some("a@b.c"), "000123456789")
                .is_err()
        );
        let open = RetrieveCheckoutSession::new(s.id.clone())
            .send(&c)
            .await
            .expect("session");
        assert_eq!(
            open.status,
            Some(CheckoutSessionStatus::Open),
            "still payable by card"
        );
    })
    .await;
}
