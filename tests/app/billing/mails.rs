//! Billing's mails, from real flows: a first checkout welcomes, a failed renewal warns once, and
//! Stripe's `customer.subscription.trial_will_end` announces the trial's end.

use crate::helpers::{
    CARD_FAILS_ON_RENEWAL, CARD_OK, TestApp, deliver, event_json, signed, unique_email,
};
use std::time::Duration;

const DAY: u64 = 86_400;

#[tokio::test]
async fn a_first_checkout_sends_one_welcome_mail() {
    let app = TestApp::builder().mail().start().await;
    let email = unique_email("welcome");
    app.subscriber(&email, "basic_monthly", CARD_OK).await;
    app.settle_webhooks().await;
    // Another sync of the same state (as the success page or a resync runs) welcomes no one again.
    app.synced_subscription_of(&email).await;
    let mails = app.mails_after_sign_up(&email, 1).await;
    let welcome = &mails[0];
    assert_eq!(welcome.subject, "Welcome to Basic");
    assert!(welcome.text.contains("payment of $9"), "{}", welcome.text);
    assert!(
        welcome
            .html
            .contains(&format!("href=\"{}\"", app.url("/dashboard"))),
        "{}",
        welcome.html
    );
}

#[tokio::test]
async fn a_failed_renewal_sends_one_payment_failed_mail() {
    let app = TestApp::builder().mail().start().await;
    let email = unique_email("renewal");
    app.subscriber(&email, "basic_monthly", CARD_FAILS_ON_RENEWAL)
        .await;
    app.settle_webhooks().await;
    app.sim
        .advance_clock(Duration::from_secs(31 * DAY))
        .expect("renewal fails");
    app.settle_webhooks().await;
    // Stripe retries the invoice (the sim after 3 days): the same invoice, no second notice.
    app.sim
        .advance_clock(Duration::from_secs(4 * DAY))
        .expect("first retry fails");
    app.settle_webhooks().await;
    let mails = app.mails_after_sign_up(&email, 2).await;
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(subjects, ["Welcome to Basic", "Your payment of $9 failed"]);
    let notice = &mails[1];
    assert!(notice.text.contains("Manage billing"), "{}", notice.text);
    assert!(
        notice.text.contains(&app.url("/dashboard")),
        "{}",
        notice.text
    );
}

/// stripe-sim does not send `trial_will_end` (yet): the event is delivered here, signed, with the
/// sim's subscription as its object, as Stripe sends it three days before the trial ends.
#[tokio::test]
async fn trial_will_end_sends_one_trial_ending_mail() {
    let app = TestApp::builder().mail().start().await;
    let email = unique_email("trial");
    app.subscriber(&email, "pro_monthly", CARD_OK).await;
    app.settle_webhooks().await;
    let subscription_id = app.synced_subscription_of(&email).await;
    let subscription = app
        .stripe_get(&format!("/v1/subscriptions/{subscription_id}"))
        .await;
    assert_eq!(subscription["status"], "trialing", "{subscription}");
    let trial_end = subscription["trial_end"].as_i64().expect("trial_end");

    for event_id in ["evt_trial_1", "evt_trial_1", "evt_trial_2"] {
        let payload = event_json(
            event_id,
            "customer.subscription.trial_will_end",
            false,
            subscription.clone(),
        );
        let response = deliver(&app, &payload, Some(&signed(&payload))).await;
        assert_eq!(response.status(), 200, "{event_id}");
    }
    // The trial's start was welcomed ($0 paid); the trial's end is announced once, for both events.
    let mails = app.mails_after_sign_up(&email, 2).await;
    let date = trial_date(trial_end);
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "Welcome to Pro".to_owned(),
            format!("Your Pro trial ends on {date}")
        ]
    );
    assert!(
        mails[0].text.contains("trial has started"),
        "{}",
        mails[0].text
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'trial_ending'")
            .await,
        1
    );
}

/// "25 November 2026" for a unix time, as the mail writes it (UTC).
fn trial_date(unix: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(unix).expect("a date");
    format!("{} {} {}", at.day(), at.month(), at.year())
}

/// A read of Stripe can catch the first paid invoice before its subscription (two list calls): that
/// sync stores the invoice and welcomes no one, and the next sync, which brings the subscription,
/// must still see the invoice as the first paid one. (It did not: it looked for an earlier paid
/// invoice after writing the subscription, found this one, and nobody was ever welcomed.)
#[tokio::test]
async fn a_first_invoice_read_before_its_subscription_still_welcomes() {
    let app = TestApp::spawn().await;
    let email = unique_email("split-read");
    app.subscriber(&email, "basic_monthly", CARD_OK).await;
    app.settle_webhooks().await;
    let welcomes = "SELECT COUNT(*) FROM outbox WHERE kind = 'welcome'";
    assert_eq!(app.count(welcomes).await, 1);
    // What the split read left: the paid invoice stored, its subscription not, no welcome queued.
    sqlx::query("DELETE FROM outbox WHERE kind = 'welcome'")
        .execute(&app.state.db.pool)
        .await
        .expect("no welcome yet");
    sqlx::query("DELETE FROM subscriptions")
        .execute(&app.state.db.pool)
        .await
        .expect("the subscription not read yet");
    app.synced_subscription_of(&email).await;
    assert_eq!(app.count(welcomes).await, 1, "the next sync welcomes");
}
