//! The subscriber dashboard and the page only Pro subscribers may open.

mod pro;
#[cfg(feature = "ssr")]
mod ssr;

pub use pro::ProPage;

use crate::account::UnverifiedNotice;
use crate::auth::{User, require_user};
use crate::billing::{BILLING_FORM_MESSAGES, OpenBillingPortal, PlanGrid, StartCheckout};
use crate::components::FormError;
use crate::components::PageMeta;
use crate::domain::{Money, Role, SubscriptionStatus, format_date};
use crate::shop::OrderList;
use leptos::prelude::*;

/// The subscription the dashboard talks about, with its price and product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionSummary {
    pub status: SubscriptionStatus,
    pub plan_name: Option<String>,
    pub unit_amount: Option<i64>,
    pub currency: Option<String>,
    pub recurring_interval: Option<String>,
    pub cancel_at_period_end: bool,
    pub current_period_end: Option<i64>,
    pub trial_end: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
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

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DashboardData {
    pub subscription: Option<SubscriptionSummary>,
    pub invoices: Vec<InvoiceSummary>,
    pub orders: Vec<crate::shop::OrderView>,
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let Some(user) = require_user("/dashboard") else {
        return view! { <p>"Please " <a href="/login?next=/dashboard">"sign in"</a> "."</p> }
            .into_any();
    };
    let body = Suspend::new(async move {
        let data = load_dashboard(&user).await;
        view! { <Dashboard user=user.clone() data /> }
    });
    view! {
        <PageMeta title="Your dashboard" description="Your plan, invoices and orders." />
        <Suspense fallback=|| ()>{body}</Suspense>
    }
    .into_any()
}

/// A failed read shows an empty dashboard, logged, answered 503 so that no cache keeps it (security
/// review 2, L6: the per-user page cache kept the empty page until some change anywhere).
#[cfg(feature = "ssr")]
async fn load_dashboard(user: &User) -> DashboardData {
    let loaded = async {
        let db = crate::state::from_context::<crate::db::Database>()?;
        let shop = crate::state::from_context::<crate::shop::ssr::Shop>()?;
        let mut data = ssr::load_dashboard(&db, user.id).await?;
        data.orders = shop.orders_of(user.id).await?;
        Ok::<_, crate::error::AppError>(data)
    }
    .await;
    loaded.unwrap_or_else(|error| {
        tracing::error!(%error, user_id = %user.id, "dashboard query failed");
        crate::request::set_status(503);
        DashboardData::default()
    })
}

/// Pages do not run in the browser (islands mode).
#[cfg(not(feature = "ssr"))]
async fn load_dashboard(_user: &User) -> DashboardData {
    DashboardData::default()
}

#[component]
fn Dashboard(user: User, data: DashboardData) -> impl IntoView {
    let has_access = user.role != Role::Free;
    let DashboardData {
        subscription,
        invoices,
        orders,
    } = data;
    let shown_plan = subscription.clone().filter(|_| has_access);
    let can_manage = has_access || subscription.is_some();
    view! {
        <section class="dashboard">
            <h1>"Your account"</h1>
            <UnverifiedNotice user=user.clone() />
            <BillingNotices subscription=subscription has_access />
            <dl class="facts">
                <dt>"E-mail"</dt>
                <dd data-testid="account-email">{user.email.to_string()}</dd>
                <dt>"Plan"</dt>
                <dd data-testid="plan">{user.role.label()}</dd>
                {shown_plan.map(|subscription| view! { <PlanFacts subscription /> })}
            </dl>
            <PlanActions can_manage />
            <p><a href="/account">"Account settings: e-mail, password, sessions, your data"</a></p>
            {(user.role == Role::Pro).then(|| view! { <p><a href="/pro">"Open Pro tools →"</a></p> })}
            <h2>"Recent invoices"</h2>
            <InvoiceTable invoices />
            <h2 id="orders">"Your orders"</h2>
            <OrderList orders />
        </section>
    }
}

#[component]
fn BillingNotices(subscription: Option<SubscriptionSummary>, has_access: bool) -> impl IntoView {
    let payment_failed = subscription
        .as_ref()
        .is_some_and(|s| s.status.payment_failed());
    let canceling = has_access
        && subscription
            .as_ref()
            .is_some_and(|s| s.cancel_at_period_end);
    view! {
        {payment_failed.then(|| view! {
            <p class="notice error" role="alert" data-testid="payment-failed">
                "Your last payment failed. Update your card in Manage billing to keep your plan."
            </p>
        })}
        {canceling.then(|| view! {
            <p class="notice warn" data-testid="canceling">
                "Your subscription is set to end at the close of the current period."
            </p>
        })}
    }
}

#[component]
fn PlanFacts(subscription: SubscriptionSummary) -> impl IntoView {
    let price = match (
        subscription.unit_amount,
        subscription.currency.clone(),
        subscription.recurring_interval.clone(),
    ) {
        (Some(amount), Some(currency), Some(interval)) => {
            format!("{} per {interval}", Money::new(amount, currency).format())
        }
        _ => "—".to_owned(),
    };
    let renewal = subscription.current_period_end.map(|end| {
        if subscription.cancel_at_period_end {
            view! { <dt>"Ends on"</dt> <dd data-testid="ends-on">{format_date(end)}</dd> }
                .into_any()
        } else {
            view! { <dt>"Renews on"</dt> <dd data-testid="renews-on">{format_date(end)}</dd> }
                .into_any()
        }
    });
    let trial = subscription
        .trial_end
        .filter(|_| subscription.status == SubscriptionStatus::Trialing)
        .map(|end| view! { <dt>"Trial ends"</dt> <dd data-testid="trial-end">{format_date(end)}</dd> });
    view! {
        <dt>"Status"</dt>
        <dd data-testid="status">{subscription.status.label()}</dd>
        <dt>"Price"</dt>
        <dd data-testid="price">{price}</dd>
        {renewal}
        {trial}
    }
}

/// "Manage billing" for anyone with a billing account; the plans for everyone else.
#[component]
fn PlanActions(can_manage: bool) -> impl IntoView {
    if can_manage {
        let portal = ServerAction::<OpenBillingPortal>::new();
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
            <FormError value=checkout.value() messages=BILLING_FORM_MESSAGES />
            <PlanGrid current_role=Role::Free />
        }
        .into_any()
    }
}

#[component]
fn InvoiceTable(invoices: Vec<InvoiceSummary>) -> impl IntoView {
    let rows = invoices
        .into_iter()
        .map(|invoice| {
            let amount = Money::new(invoice.amount_due, invoice.currency).format();
            let link = invoice
                .hosted_invoice_url
                .map(|url| view! { <a href=url target="_blank" rel="noopener">"View"</a> });
            view! {
                <tr>
                    <td>{format_date(invoice.created)}</td>
                    <td>{amount}</td>
                    <td>{invoice.status}</td>
                    <td>{link}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="invoices">
            <thead>
                <tr><th>"Date"</th><th>"Amount"</th><th>"Status"</th><th></th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
