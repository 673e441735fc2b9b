//! The dashboard's reads: the subscription it talks about and recent invoices.

use super::{DashboardData, InvoiceSummary, SubscriptionSummary};
use crate::db::Database;
use crate::domain::{SubscriptionStatus, UserId};
use crate::error::AppResult;

#[derive(sqlx::FromRow)]
struct SubscriptionRow {
    #[sqlx(try_from = "String")]
    status: SubscriptionStatus,
    plan_name: Option<String>,
    unit_amount: Option<i64>,
    currency: Option<String>,
    recurring_interval: Option<String>,
    cancel_at_period_end: i64,
    current_period_end: Option<i64>,
    trial_end: Option<i64>,
}

impl From<SubscriptionRow> for SubscriptionSummary {
    fn from(row: SubscriptionRow) -> Self {
        SubscriptionSummary {
            status: row.status,
            plan_name: row.plan_name,
            unit_amount: row.unit_amount,
            currency: row.currency,
            recurring_interval: row.recurring_interval,
            cancel_at_period_end: row.cancel_at_period_end != 0,
            current_period_end: row.current_period_end,
            trial_end: row.trial_end,
        }
    }
}

/// Subscriptions are few per user, so they are read whole and the one to show is picked here, by the
/// rules in `SubscriptionStatus`, rather than by a status list in SQL.
pub async fn load_dashboard(db: &Database, user_id: UserId) -> AppResult<DashboardData> {
    let subscriptions = sqlx::query_as::<_, SubscriptionRow>(
        "SELECT s.status, p.name AS plan_name, pr.unit_amount, pr.currency, pr.recurring_interval, \
                s.cancel_at_period_end, s.current_period_end, s.trial_end \
         FROM subscriptions s LEFT JOIN prices pr ON pr.id = s.price_id LEFT JOIN products p ON p.id = pr.product_id \
         WHERE s.user_id = $1 ORDER BY s.created DESC",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await?;
    let subscription = match subscriptions.iter().position(|s| s.status.is_billing()) {
        Some(billing) => subscriptions.into_iter().nth(billing),
        None => subscriptions.into_iter().next(),
    };
    let invoices = sqlx::query_as::<_, InvoiceSummary>(
        "SELECT id, status, currency, amount_due, amount_paid, hosted_invoice_url, created FROM invoices \
         WHERE user_id = $1 ORDER BY created DESC LIMIT 6",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(DashboardData {
        subscription: subscription.map(SubscriptionSummary::from),
        invoices,
    })
}
