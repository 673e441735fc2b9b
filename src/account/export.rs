//! "Download my data" (issue 21): everything the store keeps about its owner, in one JSON file. The
//! shapes are plain data so that the browser build compiles the server function's client too.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataExport {
    /// Unix seconds.
    pub exported_at: i64,
    pub account: ExportedAccount,
    pub subscriptions: Vec<ExportedSubscription>,
    pub invoices: Vec<ExportedInvoice>,
    pub orders: Vec<ExportedOrder>,
    /// What we mailed to the address: subjects and dates, not the bodies.
    pub mails: Vec<ExportedMail>,
    pub sessions: Vec<ExportedSession>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ExportedAccount {
    pub email: String,
    pub email_verified_at: Option<i64>,
    pub role: String,
    pub created_at: i64,
    pub stripe_customer_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ExportedSubscription {
    pub id: String,
    pub status: String,
    pub price_id: Option<String>,
    pub created: i64,
    pub current_period_end: Option<i64>,
    pub canceled_at: Option<i64>,
}

/// Amounts in the currency's minor unit, as Stripe charged them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ExportedInvoice {
    pub id: String,
    pub status: String,
    pub currency: String,
    pub amount_due: i64,
    pub amount_paid: i64,
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ExportedOrder {
    pub id: i64,
    pub status: String,
    pub currency: String,
    pub total: i64,
    pub amount_refunded: i64,
    pub created_at: i64,
    pub paid_at: Option<i64>,
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    pub lines: Vec<ExportedLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ExportedLine {
    #[serde(skip)]
    pub order_id: i64,
    pub name: String,
    pub quantity: i64,
    pub unit_amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ExportedMail {
    pub subject: String,
    pub kind: String,
    pub queued_at: i64,
    pub sent_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ExportedSession {
    pub agent: String,
    pub signed_in_at: i64,
    pub seen_at: i64,
}
