//! The test clock: renewals, failed renewals and dunning, cancellation at period end, trials.

use std::time::Duration;

use serde_json::Value;
use stripe_billing::subscription::UpdateSubscription;
use stripe_shared::SubscriptionStatus;

use crate::common::*;

const DAY: i64 = 86_400;

async fn advance(http: &reqwest::Client, base: &str, form: &[(&str, String)]) -> (u16, Value) {
    let resp = http
        .post(format!("{base}/_sim/clock/advance"))
        .form(form)
        .send()
        .await
        .expect("advance");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

#[tokio::test]
async fn clock_endpoints() {
    bounded(async {
        let sim = sim().await;
        let http = http();
        let base = sim.base_url();
        let now: Value = http
            .get(format!("{base}/_sim/clock"))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        let t0 = now["now"].as_i64().expect("now");
        assert_eq!(t0, sim.now());
        let (s, v) = advance(&http, base, &[("seconds", "3600".to_owned())]).await;
        assert_eq!((s, v["now"].as_i64()), (200, Some(t0 + 3600)));
        let json: Value = http
            .post(format!("{base}/_sim/clock/advance"))
            .json(&serde_json::json!({ "to": t0 + 7200 }))
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("json");
        assert_eq!(json["now"].as_i64(), Some(t0 + 7200));
        let (s, v) = advance(&http, base, &[("to", (t0 - 1).to_string())]).await;
        assert_eq!(s, 400, "{v}");
        let (s, _) = advance(&http, base, &[]).await;
        assert_eq!(s, 400);
        // Objects take their timestamps from the sim clock.
        let cus = customer(&client(&sim), "t@x.io").await;
        assert_eq!(cus.created, t0 + 7200);
        // The clock is not part of the Stripe API surface.
        let v1 = http
            .post(format!("{base}/v1/_sim/clock/advance"))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("post");
        assert_eq!(v1.status(), 404);
    })
    .await;
}

#[tokio::test]
async fn renewal_is_invoiced_and_paid() {
    bounded(async {
        let (sim, inbox) = sim_with_hook().await;
        let c = client(&sim);
        let (_, sub) = subscribe(&sim, &c, "basic_monthly", "4242424242424242", None).await;
        let before = retrieve_subscription(&c, &sub).await;
        let end = before.items.data[0].current_period_end;
        sim.advance_clock_to(end + 60).expect("advance");
        let after = retrieve_subscription(&c, &sub).await;
        assert_eq!(after.status, SubscriptionStatus::Active);
        assert_eq!(after.items.data[0].current_period_start, end);
        assert!(after.items.data[0].current_period_end > end + 27 * DAY);
        let invoices_so_far = invoices(&c, &sub).await;
        assert_eq!(invoices_so_far.len(), 2);
        let renewal = &invoices_so_far[0];
        assert_eq!(
            renewal.billing_reason,
            Some(stripe_shared::InvoiceBillingReason::SubscriptionCycle)
        );
        assert_eq!(
            (renewal.amount_paid, renewal.status.clone()),
            (900, Some(stripe_shared::InvoiceStatus::Paid))
        );
        assert_eq!(renewal.created, end);
        inbox
            .wait_for("renewal paid", |r| {
                r.iter()
                    .filter(|e| e.event.type_.as_str() == "invoice.paid")
                    .count()
                    >= 2
            })
            .await;
        // Twelve more months: twelve more paid invoices.
        sim.advance_clock(Duration::from_secs(366 * 86_400))
            .expect("advance a year");
        assert_eq!(invoices(&c, &sub).await.len(), 14);
    })
    .await;
}

#[tokio::test]
async fn failing_renewal_goes_past_due_then_canceled() {
    bounded(async {
        let (sim, inbox) = sim_with_hook().await;
        let c = client(&sim);
        let (_, sub) = subscribe(&sim, &c, "pro_monthly", "4000000000000341", None).await;
        let end = retrieve_subscription(&c, &sub).await.items.data[0].current_period_end;
        sim.advance_clock_to(end + 1).expect("advance");
        let s = retrieve_subscription(&c, &sub).await;
        assert_eq!(s.status, SubscriptionStatus::PastDue);
        let inv = invoices(&c, &sub).await.remove(0);
        assert_eq!(inv.status, Some(stripe_shared::InvoiceStatus::Open));
        assert_eq!(inv.attempt_count, 1);
        assert_eq!(inv.next_payment_attempt, Some(end + 3 * DAY));
        inbox.wait_for_type("invoice.payment_failed").await;

        sim.advance_clock_to(end + 3 * DAY + 1)
            .expect("first retry");
        let inv = invoices(&c, &sub).await.remove(0);
        assert_eq!(inv.attempt_count, 2);
        assert_eq!(
            retrieve_subscription(&c, &sub).await.status,
            SubscriptionStatus::PastDue
        );

        sim.advance_clock_to(end + 7 * DAY + 1).expect("last retry");
        let s = retrieve_subscription(&c, &sub).await;
        assert_eq!(s.status, SubscriptionStatus::Canceled);
        assert_eq!(s.ended_at, Some(end + 7 * DAY));
        let inv = invoices(&c, &sub).await.remove(0);
        assert_eq!(inv.attempt_count, 4, "initial attempt + 3 retries");
        assert_eq!(inv.next_payment_attempt, None);
        let deleted = inbox.wait_for_type("customer.subscription.deleted").await;
        assert_eq!(deleted.raw["data"]["object"]["id"], sub.as_str());
        let failures = inbox
            .types()
            .iter()
            .filter(|t| *t == "invoice.payment_failed")
            .count();
        assert_eq!(failures, 4);
    })
    .await;
}

#[tokio::test]
async fn portal_card_update_recovers_past_due() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let (cus, sub) = subscribe(&sim, &c, "basic_monthly", "4000000000000341", None).await;
        sim.advance_clock(Duration::from_secs(32 * 86_400))
            .expect("advance");
        assert_eq!(
            retrieve_subscription(&c, &sub).await.status,
            SubscriptionStatus::PastDue
        );
        let ps = stripe_billing::billing_portal_session::CreateBillingPortalSession::new()
            .customer(cus.as_str())
            .send(&c)
            .await
            .expect("portal");
        let resp = http()
            .post(format!("{}/card", ps.url))
            .form(&[("card_number", "4242424242424242")])
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 303);
        assert_eq!(
            retrieve_subscription(&c, &sub).await.status,
            SubscriptionStatus::Active
        );
    })
    .await;
}

#[tokio::test]
async fn cancel_at_period_end_ends_the_subscription() {
    bounded(async {
        let (sim, inbox) = sim_with_hook().await;
        let c = client(&sim);
        let (_, sub) = subscribe(&sim, &c, "basic_yearly", "4242424242424242", None).await;
        let s = UpdateSubscription::new(sub.as_str())
            .cancel_at_period_end(true)
            .send(&c)
            .await
            .expect("update");
        let end = s.items.data[0].current_period_end;
        assert_eq!(s.cancel_at, Some(end));
        sim.advance_clock_to(end - 1).expect("advance");
        assert_eq!(
            retrieve_subscription(&c, &sub).await.status,
            SubscriptionStatus::Active
        );
        sim.advance_clock_to(end + 1).expect("advance");
        let s = retrieve_subscription(&c, &sub).await;
        assert_eq!(s.status, SubscriptionStatus::Canceled);
        assert_eq!(s.ended_at, Some(end));
        assert_eq!(invoices(&c, &sub).await.len(), 1, "no renewal invoice");
        inbox.wait_for_type("customer.subscription.deleted").await;
    })
    .await;
}

#[tokio::test]
async fn trial_ends_with_a_paid_invoice() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let start = sim.now();
        let (_, sub) = subscribe(&sim, &c, "pro_monthly", "4242424242424242", Some(14)).await;
        let s = retrieve_subscription(&c, &sub).await;
        assert_eq!(s.status, SubscriptionStatus::Trialing);
        assert_eq!(s.trial_end, Some(start + 14 * DAY));
        let first = invoices(&c, &sub).await;
        assert_eq!(
            (first.len(), first[0].total, first[0].amount_paid),
            (1, 0, 0)
        );
        sim.advance_clock(Duration::from_secs(14 * 86_400 + 10))
            .expect("advance");
        let s = retrieve_subscription(&c, &sub).await;
        assert_eq!(s.status, SubscriptionStatus::Active);
        assert_eq!(s.items.data[0].current_period_start, start + 14 * DAY);
        let invoices = invoices(&c, &sub).await;
        assert_eq!(invoices.len(), 2);
        assert_eq!(
            (invoices[0].amount_paid, invoices[0].status.clone()),
            (2900, Some(stripe_shared::InvoiceStatus::Paid))
        );
    })
    .await;
}
