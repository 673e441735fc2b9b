//! The dashboard's read of billing: the user's subscriptions and recent invoices, in one query (the
//! page adds the shop's orders, `Shop::orders_of`, two more).

use super::{DashboardData, InvoiceSummary, SubscriptionSummary};
use crate::db::Database;
use crate::domain::{SubscriptionStatus, UserId};
use crate::error::{AppError, AppResult};

const RECENT_INVOICES: i64 = 6;

/// One row of the combined read: a subscription (`kind = 's'`) or an invoice (`kind = 'i'`). The
/// columns a kind does not use are NULL.
#[derive(sqlx::FromRow)]
struct DashboardRow {
    kind: String,
    status: String,
    currency: Option<String>,
    created: i64,
    plan_name: Option<String>,
    unit_amount: Option<i64>,
    recurring_interval: Option<String>,
    cancel_at_period_end: Option<i64>,
    current_period_end: Option<i64>,
    trial_end: Option<i64>,
    invoice_id: Option<String>,
    amount_due: Option<i64>,
    amount_paid: Option<i64>,
    hosted_invoice_url: Option<String>,
}

impl DashboardRow {
    fn subscription(self) -> AppResult<SubscriptionSummary> {
        Ok(SubscriptionSummary {
            status: SubscriptionStatus::try_from(self.status)
                .map_err(|e| AppError::Internal(format!("stored subscription status: {e}")))?,
            plan_name: self.plan_name,
            unit_amount: self.unit_amount,
            currency: self.currency,
            recurring_interval: self.recurring_interval,
            cancel_at_period_end: self.cancel_at_period_end.unwrap_or(0) != 0,
            current_period_end: self.current_period_end,
            trial_end: self.trial_end,
        })
    }

    fn invoice(self) -> InvoiceSummary {
        InvoiceSummary {
            id: self.invoice_id.unwrap_or_default(),
            status: self.status,
            currency: self.currency.unwrap_or_default(),
            amount_due: self.amount_due.unwrap_or(0),
            amount_paid: self.amount_paid.unwrap_or(0),
            hosted_invoice_url: self.hosted_invoice_url,
            created: self.created,
        }
    }
}

/// Subscriptions are few per user, so they are read whole and the one to show is picked here, by the
/// rules in `SubscriptionStatus`, rather than by a status list in SQL.
pub async fn load_dashboard(db: &Database, user_id: UserId) -> AppResult<DashboardData> {
    // The invoices' LIMIT sits in a subquery: both SQLite and PostgreSQL accept that inside UNION ALL.
    let rows = sqlx::query_as::<_, DashboardRow>(
        "SELECT 's' AS kind, s.status, pr.currency, s.created, p.name AS plan_name, pr.unit_amount, \
                pr.recurring_interval, s.cancel_at_period_end, s.current_period_end, s.trial_end, \
                NULL AS invoice_id, NULL AS amount_due, NULL AS amount_paid, NULL AS hosted_invoice_url \
         FROM subscriptions s LEFT JOIN prices pr ON pr.id = s.price_id LEFT JOIN products p ON p.id = pr.product_id \
         WHERE s.user_id = $1 \
         UNION ALL \
         SELECT 'i', i.status, i.currency, i.created, NULL, NULL, NULL, NULL, NULL, NULL, \
                i.id, i.amount_due, i.amount_paid, i.hosted_invoice_url \
         FROM (SELECT * FROM invoices WHERE user_id = $1 ORDER BY created DESC LIMIT $2) AS i \
         ORDER BY kind DESC, created DESC",
    )
    .bind(user_id)
    .bind(RECENT_INVOICES)
    .fetch_all(&db.pool)
    .await?;
    let (subscriptions, invoices): (Vec<_>, Vec<_>) =
        rows.into_iter().partition(|row| row.kind == "s");
    let subscriptions = subscriptions
        .into_iter()
        .map(DashboardRow::subscription)
        .collect::<AppResult<Vec<_>>>()?;
    let subscription = match subscriptions.iter().position(|s| s.status.is_billing()) {
        Some(billing) => subscriptions.into_iter().nth(billing),
        None => subscriptions.into_iter().next(),
    };
    Ok(DashboardData {
        subscription,
        invoices: invoices.into_iter().map(DashboardRow::invoice).collect(),
        orders: Vec::new(),
    })
}
