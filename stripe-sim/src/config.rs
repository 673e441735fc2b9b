//! How a simulator is configured (`SimConfig`) and why starting it can fail (`SimError`).

use std::time::Duration;

use crate::error::ApiError;
use crate::model::DEFAULT_ACCOUNT_ID;
use crate::seed::CatalogSource;
use crate::shared::DeliveryPolicy;

/// How to run a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// A webhook endpoint configured at start (like `stripe listen --forward-to`).
    pub webhook_url: Option<String>,
    /// Its signing secret; generated (`whsec_…`) when absent.
    pub webhook_secret: Option<String>,
    pub catalog: CatalogSource,
    /// Delivery attempts per event and endpoint, the first included.
    pub webhook_max_attempts: u32,
    /// Delay before the first retry; doubles on each further retry.
    pub webhook_retry_base: Duration,
    /// Per-attempt timeout of a delivery.
    pub webhook_timeout: Duration,
    /// Start of the sim clock (unix seconds); the wall clock when `None`.
    pub start_time: Option<i64>,
    /// The `acct_…` id `GET /v1/account` answers; [`DEFAULT_ACCOUNT_ID`] when `None`. Apps
    /// record it to notice that their keys now belong to another account, so it is fixed for
    /// the life of a sim and sims meant to be different accounts need different ids.
    pub account_id: Option<String>,
    /// Whether each new webhook endpoint (the one configured here, or one added later) gets
    /// the seed catalog's `product.created`/`price.created` events, as it does by default.
    /// Tests that do not exercise catalog webhooks turn it off to skip those 14 deliveries;
    /// the events stay in `GET /v1/events` either way.
    pub replay_seed_events: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            port: 0,
            webhook_url: None,
            webhook_secret: None,
            catalog: CatalogSource::Default,
            webhook_max_attempts: 6,
            webhook_retry_base: Duration::from_secs(1),
            webhook_timeout: Duration::from_secs(10),
            start_time: None,
            account_id: None,
            replay_seed_events: true,
        }
    }
}

impl SimConfig {
    pub(crate) fn delivery_policy(&self) -> DeliveryPolicy {
        DeliveryPolicy {
            max_attempts: self.webhook_max_attempts,
            retry_base: self.webhook_retry_base,
            timeout: self.webhook_timeout,
        }
    }

    /// The account id to answer with: `acct_` and ASCII letters or digits (it appears in URLs
    /// such as `/v1/accounts/{id}/external_accounts`, as on Stripe).
    pub(crate) fn account_id(&self) -> Result<String, SimError> {
        let id = self.account_id.as_deref().unwrap_or(DEFAULT_ACCOUNT_ID);
        let valid = id.strip_prefix("acct_").is_some_and(|rest| {
            !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric())
        });
        if valid {
            Ok(id.to_owned())
        } else {
            Err(SimError::Config(format!(
                "invalid account id {id:?}: expected acct_ followed by letters and digits"
            )))
        }
    }
}

/// Why the sim could not start or an admin call failed.
#[derive(Debug)]
pub enum SimError {
    Io(std::io::Error),
    Catalog(String),
    /// A `SimConfig` value the sim cannot use (such as a malformed account id).
    Config(String),
    Api(ApiError),
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "stripe-sim I/O error: {e}"),
            Self::Catalog(e) => write!(f, "stripe-sim catalog error: {e}"),
            Self::Config(e) => write!(f, "stripe-sim configuration error: {e}"),
            Self::Api(e) => write!(f, "stripe-sim error: {}", e.message),
        }
    }
}

impl std::error::Error for SimError {}

impl From<ApiError> for SimError {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_checked() {
        let with = |id: &str| SimConfig {
            account_id: Some(id.to_owned()),
            ..SimConfig::default()
        };
        assert_eq!(
            SimConfig::default().account_id().ok().as_deref(),
            Some(DEFAULT_ACCOUNT_ID)
        );
        assert_eq!(
            with("acct_1Other").account_id().ok().as_deref(),
            Some("acct_1Other")
        );
        for bad in ["acct_", "cus_123", "acct_a/b", "acct_ä"] {
            assert!(with(bad).account_id().is_err(), "{bad}");
        }
    }
}
