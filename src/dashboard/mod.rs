//! The subscriber dashboard and the page only Pro subscribers may open.

mod pro;

pub use pro::{ProInsights, ProPage};

use crate::auth::{Role, User, current_user};
use crate::billing::{OpenBillingPortal, StartCheckout};
use crate::catalog::{Money, PlanGrid};
use crate::components::FormError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The subscription the dashboard talks about, with its price and product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct SubscriptionSummary {
    pub status: String,
    pub plan_name: Option<String>,
    pub unit_amount: Option<i64>,
    pub currency: Option<String>,
    pub recurring_interval: Option<String>,
    pub cancel_at_period_end: i64,
    pub current_period_end: Option<i64>,
    pub trial_end: Option<i64>,
    pub ended_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct InvoiceSummary {
    pub id: String,
    pub status: String,
    pub currency: String,
    pub amount_due: i64,
    pub amount_paid: i64,
    pub hosted_invoice_url: Option<String>,
    pub created: i64,
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let Some(user) = current_user() else {
        #[cfg(feature = "ssr")]
        leptos_axum::redirect("/login?next=/dashboard");
        return view! { <p>"Please " <a href="/login?next=/dashboard">"sign in"</a> "."</p> }
            .into_any();
    };
    let body = Suspend::new(async move {
        let (subscription, invoices) = load_billing(user.id).await;
        view! { <Dashboard user=user.clone() subscription invoices /> }
    });
    view! { <Suspense fallback=|| ()>{body}</Suspense> }.into_any()
}

#[cfg(feature = "ssr")]
async fn load_billing(user_id: i64) -> (Option<SubscriptionSummary>, Vec<InvoiceSummary>) {
    let Ok(state) = crate::auth::ssr::app_state() else {
        return (None, Vec::new());
    };
    let subscription = sqlx::query_as::<_, SubscriptionSummary>(
        "SELECT s.status, p.name AS plan_name, pr.unit_amount, pr.currency, pr.recurring_interval, \
                s.cancel_at_period_end, s.current_period_end, s.trial_end, s.ended_at \
         FROM subscriptions s LEFT JOIN prices pr ON pr.id = s.price_id LEFT JOIN products p ON p.id = pr.product_id \
         WHERE s.user_id = $1 \
         ORDER BY CASE WHEN s.status IN ('active', 'trialing', 'past_due', 'unpaid') THEN 0 ELSE 1 END, s.created DESC \
         LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(&state.db.pool)
    .await;
    let invoices = sqlx::query_as::<_, InvoiceSummary>(
        "SELECT id, status, currency, amount_due, amount_paid, hosted_invoice_url, created FROM invoices \
         WHERE user_id = $1 ORDER BY created DESC LIMIT 6",
    )
    .bind(user_id)
    .fetch_all(&state.db.pool)
    .await;
    match (subscription, invoices) {
        (Ok(subscription), Ok(invoices)) => (subscription, invoices),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, user_id, "dashboard query failed");
            (None, Vec::new())
        }
    }
}

#[cfg(not(feature = "ssr"))]
async fn load_billing(_user_id: i64) -> (Option<SubscriptionSummary>, Vec<InvoiceSummary>) {
    (None, Vec::new())
}

/// "December 22, 2026" in UTC.
pub fn format_date(unix: i64) -> String {
    #[cfg(feature = "ssr")]
    {
        match time::OffsetDateTime::from_unix_timestamp(unix) {
            Ok(date) => format!("{} {}, {}", date.month(), date.day(), date.year()),
            Err(_) => "—".to_owned(),
        }
    }
    #[cfg(not(feature = "ssr"))]
    {
        unix.to_string()
    }
}

fn status_label(status: &str) -> &'static str {
    match status {
        "active" => "Active",
        "trialing" => "Free trial",
        "past_due" => "Payment overdue",
        "unpaid" => "Unpaid",
        "canceled" => "Canceled",
        "incomplete" => "Awaiting payment",
        "incomplete_expired" => "Expired",
        "paused" => "Paused",
        _ => "Unknown",
    }
}

#[component]
fn Dashboard(
    user: User,
    subscription: Option<SubscriptionSummary>,
    invoices: Vec<InvoiceSummary>,
) -> impl IntoView {
    let portal = ServerAction::<OpenBillingPortal>::new();
    let has_access = user.role != Role::Free;
    let plan_facts = subscription.clone().filter(|_| has_access).map(|sub| {
        let price = match (
            sub.unit_amount,
            sub.currency.clone(),
            sub.recurring_interval.clone(),
        ) {
            (Some(amount), Some(currency), Some(interval)) => {
                format!("{} per {interval}", Money::new(amount, currency).format())
            }
            _ => "—".to_owned(),
        };
        let renewal = match (sub.cancel_at_period_end != 0, sub.current_period_end) {
            (true, Some(end)) => view! {
                <dt>"Ends on"</dt>
                <dd data-testid="ends-on">{format_date(end)}</dd>
            }
            .into_any(),
            (false, Some(end)) => view! {
                <dt>"Renews on"</dt>
                <dd data-testid="renews-on">{format_date(end)}</dd>
            }
            .into_any(),
            _ => ().into_any(),
        };
        let trial = sub
            .trial_end
            .filter(|_| sub.status == "trialing")
            .map(|end| {
                view! {
                    <dt>"Trial ends"</dt>
                    <dd data-testid="trial-end">{format_date(end)}</dd>
                }
            });
        view! {
            <dt>"Status"</dt>
            <dd data-testid="status">{status_label(&sub.status)}</dd>
            <dt>"Price"</dt>
            <dd data-testid="price">{price}</dd>
            {renewal}
            {trial}
        }
    });
    let past_due = subscription
        .as_ref()
        .is_some_and(|s| s.status == "past_due" || s.status == "unpaid");
    let canceling = subscription
        .as_ref()
        .is_some_and(|s| s.cancel_at_period_end != 0 && has_access);
    let invoice_rows = invoices
        .into_iter()
        .map(|invoice| {
            let amount = Money::new(invoice.amount_due, invoice.currency.clone()).format();
            view! {
                <tr>
                    <td>{format_date(invoice.created)}</td>
                    <td>{amount}</td>
                    <td>{invoice.status.clone()}</td>
                    <td>
                        {invoice.hosted_invoice_url.clone().map(|url| view! { <a href=url target="_blank" rel="noopener">"View"</a> })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="dashboard">
            <h1>"Your account"</h1>
            {past_due.then(|| view! {
                <p class="notice error" role="alert" data-testid="payment-failed">
                    "Your last payment failed. Update your card in Manage billing to keep your plan."
                </p>
            })}
            {canceling.then(|| view! {
                <p class="notice warn" data-testid="canceling">
                    "Your subscription is set to end at the close of the current period."
                </p>
            })}
            <dl class="facts">
                <dt>"E-mail"</dt>
                <dd data-testid="account-email">{user.email.clone()}</dd>
                <dt>"Plan"</dt>
                <dd data-testid="plan">{user.role.label()}</dd>
                {plan_facts}
            </dl>
            {if has_access || subscription.is_some() {
                view! {
                    <ActionForm action=portal attr:class="actions">
                        <button type="submit" class="button primary">"Manage billing"</button>
                    </ActionForm>
                }
                .into_any()
            } else {
                let checkout = ServerAction::<StartCheckout>::new();
                view! {
                    <h2>"Choose a plan"</h2>
                    <FormError value=checkout.value() />
                    <PlanGrid current_role=Role::Free />
                }
                .into_any()
            }}
            {(user.role == Role::Pro).then(|| view! { <p><a href="/pro">"Open Pro tools →"</a></p> })}
            <h2>"Recent invoices"</h2>
            <table class="invoices">
                <thead>
                    <tr><th>"Date"</th><th>"Amount"</th><th>"Status"</th><th></th></tr>
                </thead>
                <tbody>{invoice_rows}</tbody>
            </table>
        </section>
    }
}
