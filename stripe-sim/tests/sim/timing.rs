//! Timed behaviour on the test clock: `customer.subscription.trial_will_end` 3 days before a
//! trial ends, and Checkout Session `expires_at` measured from the wall clock and honoured by
//! the clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use stripe_checkout::checkout_session::*;
use stripe_sim::{Sim, SimConfig};

use crate::common::*;
use crate::shop::*;

const DAY: u64 = 86_400;

fn notices(sim: &Sim, sub: &str) -> usize {
    sim.events()
        .iter()
        .filter(|e| e["type"] == "customer.subscription.trial_will_end")
        .filter(|e| e["data"]["object"]["id"] == sub)
        .count()
}

#[tokio::test]
async fn trial_will_end_three_days_before_the_trial_ends() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let (_, sub) = subscribe(&sim, &c, "pro_monthly", "4242424242424242", Some(14)).await;
        let trial_end = retrieve_subscription(&c, &sub)
            .await
            .trial_end
            .expect("trial");
        assert_eq!(notices(&sim, &sub), 0);
        sim.advance_clock_to(trial_end - 3 * 86_400 - 1)
            .expect("advance");
        assert_eq!(notices(&sim, &sub), 0, "not before 3 days ahead");
        sim.advance_clock(Duration::from_secs(1)).expect("advance");
        assert_eq!(notices(&sim, &sub), 1);
        let notice = last_event(&sim, "customer.subscription.trial_will_end");
        assert_eq!(notice["data"]["object"]["status"], "trialing");
        assert_eq!(notice["data"]["object"]["trial_end"], trial_end);
        sim.advance_clock(Duration::from_secs(4 * DAY))
            .expect("past the trial");
        assert_eq!(notices(&sim, &sub), 1, "once per trial");
        assert_eq!(
            retrieve_subscription(&c, &sub).await.status,
            stripe_shared::SubscriptionStatus::Active
        );
    })
    .await;
}

#[tokio::test]
async fn a_short_trial_announces_its_end_at_once() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let before = sim.events().len();
        let (_, sub) = subscribe(&sim, &c, "pro_monthly", "4242424242424242", Some(2)).await;
        let types = event_types_since(&sim, before);
        let created = types
            .iter()
            .position(|t| t == "customer.subscription.created");
        let notice = types
            .iter()
            .position(|t| t == "customer.subscription.trial_will_end");
        assert!(created.is_some() && notice > created, "{types:?}");
        sim.advance_clock(Duration::from_secs(3 * DAY))
            .expect("advance");
        assert_eq!(notices(&sim, &sub), 1);
    })
    .await;
}

fn wall_clock() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("time")
        .as_secs();
    i64::try_from(secs).expect("fits")
}

async fn session_expiring_at(
    sim: &Sim,
    c: &stripe::Client,
    at: i64,
) -> Result<stripe_shared::CheckoutSession, stripe::StripeError> {
    let mut item = CreateCheckoutSessionLineItems::new();
    item.price = sim.price_id("goods_mug");
    item.quantity = Some(1);
    CreateCheckoutSession::new()
        .mode(stripe_shared::CheckoutSessionMode::Payment)
        .line_items(vec![item])
        .success_url("http://app.test/done")
        .expires_at(at)
        .send(c)
        .await
}

#[tokio::test]
async fn expires_at_is_measured_from_the_wall_clock_and_honoured_by_the_clock() {
    bounded(async {
        // A sim whose clock has stood still for two days while the app's clock ran on.
        let sim = Sim::start(SimConfig {
            start_time: Some(wall_clock() - 2 * 86_400),
            ..config()
        })
        .await
        .expect("sim");
        let c = client(&sim);
        let wall = wall_clock();
        assert!(
            session_expiring_at(&sim, &c, wall + 29 * 60).await.is_err(),
            "under 30 minutes"
        );
        assert!(
            session_expiring_at(&sim, &c, wall + 25 * 3600)
                .await
                .is_err(),
            "over 24 hours"
        );
        let s = session_expiring_at(&sim, &c, wall + 31 * 60)
            .await
            .expect("31 minutes from now");
        assert_eq!(s.expires_at, wall + 31 * 60);
        assert!((s.created - wall).abs() <= 5, "created in real time");
        sim.advance_clock_to(s.expires_at - 1).expect("advance");
        let open = RetrieveCheckoutSession::new(s.id.clone())
            .send(&c)
            .await
            .expect("open");
        assert_eq!(
            open.status,
            Some(stripe_shared::CheckoutSessionStatus::Open)
        );
        sim.advance_clock_to(s.expires_at).expect("advance");
        let expired = last_event(&sim, "checkout.session.expired");
        assert_eq!(expired["data"]["object"]["id"], s.id.as_str());
        assert_eq!(expired["data"]["object"]["status"], "expired");
        assert_eq!(expired["data"]["object"]["mode"], "payment");
        // Without `expires_at` a session lasts 24 hours.
        let default = goods_session(&sim, &c, None, &[("goods_mug", 1)]).await;
        assert_eq!(default.expires_at - default.created, 86_400);
    })
    .await;
}
