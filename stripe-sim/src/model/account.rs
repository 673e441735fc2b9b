//! The one account every API key of a sim belongs to (`GET /v1/account`).

/// Answered when `SimConfig::account_id` is not set. Fixed rather than random so that an app
/// restarted against a sim with the default configuration sees the same account.
pub const DEFAULT_ACCOUNT_ID: &str = "acct_1StripeSimulator";

#[derive(Debug, Clone, Default)]
pub(crate) struct Account {
    pub(crate) id: String,
    /// The sim clock when the sim started.
    pub(crate) created: i64,
}
