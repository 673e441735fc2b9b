//! Security review M5/M6: a Stripe customer is bound to a user only through metadata naming this
//! installation and that very user; the database remembers the Stripe mode and account it was
//! filled from.

use crate::helpers::{CARD_OK, TestApp};
use storefront::config::StripeMode;
use storefront::installation::{Installation, InstallationError};

/// M5: another system on the same Stripe account tags its customers `user_id=1` (as this app once
/// did); our user 1 must get a customer of its own, never that one.
#[tokio::test]
async fn m5_a_customer_tagged_by_another_system_is_never_bound() {
    let app = TestApp::spawn().await;
    let foreign: serde_json::Value = app
        .stripe_api(reqwest::Method::POST, "/v1/customers")
        .form(&[
            ("email", "someone-else@example.com"),
            ("metadata[user_id]", "1"),
        ])
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let foreign_id = foreign["id"].as_str().expect("id").to_owned();
    let browser = app.new_user("first@example.com").await;
    let session = app.start_checkout(&browser, "basic_monthly").await;
    app.pay(&session, CARD_OK);
    app.settle_webhooks().await;
    let ours = app.customer_of("first@example.com").await;
    assert_ne!(ours, foreign_id);
    let customer = app.stripe_get(&format!("/v1/customers/{ours}")).await;
    let owner = customer["metadata"]["storefront_owner"]
        .as_str()
        .expect("owner tag");
    let installation = Installation::load_or_create(&app.state.db, StripeMode::Test)
        .await
        .expect("installation");
    assert!(
        owner.starts_with(&format!("{}:", installation.id)),
        "{owner}"
    );
}

/// M5: a restored database hands user id 1 to someone new; the customer the old user 1 had (found by
/// metadata search) is not theirs, because the tag also names the user's sign-up time.
#[tokio::test]
async fn m5_a_reused_user_id_does_not_inherit_the_old_customer() {
    let app = TestApp::spawn().await;
    let browser = app
        .subscriber("before-restore@example.com", "pro_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    let old_customer = app.customer_of("before-restore@example.com").await;
    drop(browser);
    // The restore: the user row is replaced by a newcomer with the same id and no customer.
    sqlx::query(
        "UPDATE users SET email = 'newcomer@example.com', stripe_customer_id = NULL, role = 'free', \
         created_at = created_at + 1000 WHERE email = 'before-restore@example.com'",
    )
    .execute(&app.state.db.pool)
    .await
    .expect("restore");
    sqlx::query("DELETE FROM subscriptions")
        .execute(&app.state.db.pool)
        .await
        .expect("restore");
    let newcomer = app.browser();
    let login = app
        .post_form(
            &newcomer,
            "/api/login",
            "/login",
            &[
                ("email", "newcomer@example.com"),
                ("password", crate::helpers::PASSWORD),
            ],
        )
        .await;
    assert_eq!(login.status(), 302);
    let response = app.request_checkout(&newcomer, "basic_monthly").await;
    assert_eq!(response.status(), 303);
    assert_ne!(app.customer_of("newcomer@example.com").await, old_customer);
    assert_eq!(app.role_of("newcomer@example.com").await, "free");
}

/// M6: a database filled in test mode refuses a live key, and says how to go on.
#[tokio::test]
async fn m6_a_test_mode_database_refuses_a_live_key() {
    let app = TestApp::spawn().await;
    match Installation::load_or_create(&app.state.db, StripeMode::Live).await {
        Err(error @ InstallationError::ModeMismatch { .. }) => {
            let message = error.to_string();
            assert!(message.contains("test mode data"), "{message}");
            assert!(message.contains("new, empty database"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// M6: the database records the Stripe account at first contact; an instance started with another
/// account's key stops serving instead of mixing customers.
#[tokio::test]
async fn m6_another_stripe_account_stops_the_instance() {
    let app = TestApp::spawn().await;
    let recorded =
        sqlx::query_scalar::<_, Option<String>>("SELECT stripe_account FROM installation")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("installation");
    assert_eq!(recorded.as_deref(), Some(stripe_sim::DEFAULT_ACCOUNT_ID));
    assert!(app.fatal.borrow().is_none());
    sqlx::query("UPDATE installation SET stripe_account = 'acct_SomeoneElse'")
        .execute(&app.state.db.pool)
        .await
        .expect("update");
    let second = app.another_instance().await;
    let reason = second.fatal.borrow().clone().expect("the instance stops");
    assert!(reason.contains("acct_SomeoneElse"), "{reason}");
}
