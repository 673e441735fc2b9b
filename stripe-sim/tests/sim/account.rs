//! `GET /v1/account`: one account per sim, with a fixed or configured id.

use stripe_sim::{DEFAULT_ACCOUNT_ID, Sim, SimConfig, SimError};

use crate::common::*;

async fn account(sim: &Sim) -> serde_json::Value {
    api_get(&http(), sim.base_url(), "/v1/account").await
}

#[tokio::test]
async fn account_id_is_stable_per_sim_and_configurable() {
    bounded(async {
        let default = sim().await;
        let first = account(&default).await;
        assert_eq!(first["id"], DEFAULT_ACCOUNT_ID);
        assert_eq!(first["object"], "account");
        assert_eq!(default.account_id(), DEFAULT_ACCOUNT_ID);
        assert_eq!(
            (&first["country"], &first["default_currency"]),
            (&"US".into(), &"usd".into())
        );
        assert_eq!(
            (&first["charges_enabled"], &first["details_submitted"]),
            (&true.into(), &true.into())
        );
        assert!(first["email"].is_string());
        assert_eq!(first["settings"]["dashboard"]["display_name"], "Stripe Sim");
        customer(&client(&default), "a@example.com").await;
        assert_eq!(account(&default).await, first, "unchanged by other calls");

        let other = Sim::start(SimConfig {
            account_id: Some("acct_1OtherAccount0001".to_owned()),
            ..config()
        })
        .await
        .expect("sim starts");
        assert_eq!(account(&other).await["id"], "acct_1OtherAccount0001");
        assert_eq!(other.account_id(), "acct_1OtherAccount0001");

        let unauthenticated = http()
            .get(format!("{}/v1/account", other.base_url()))
            .send()
            .await
            .expect("get");
        assert_eq!(unauthenticated.status(), 401);
    })
    .await;
}

#[tokio::test]
async fn malformed_account_ids_are_refused_at_start() {
    bounded(async {
        let started = Sim::start(SimConfig {
            account_id: Some("cus_not_an_account".to_owned()),
            ..config()
        })
        .await;
        assert!(matches!(started, Err(SimError::Config(_))));
    })
    .await;
}
