//! `/pro`: only Pro subscribers, enforced on the server for the page and its server function.

use crate::auth::{current_user, require_user};
use crate::components::PageMeta;
use crate::domain::Role;
use crate::request::set_status;
use leptos::prelude::*;

/// Data behind the Pro page; refused on the server for anyone but Pro.
#[server(prefix = "/api", endpoint = "pro_insights")]
pub async fn pro_insights() -> Result<Vec<String>, ServerFnError> {
    use crate::error::AppError;
    crate::error::server_fn(async move {
        match current_user() {
            None => Err(AppError::Unauthenticated),
            Some(user) if user.role != Role::Pro => Err(AppError::Forbidden),
            Some(_) => Ok(vec![
                "Priority support: answers within 4 business hours".to_owned(),
                "Advanced exports: CSV and Parquet".to_owned(),
                "Team seats: invite up to 10 people".to_owned(),
            ]),
        }
    })
    .await
}

#[component]
pub fn ProPage() -> impl IntoView {
    let Some(user) = require_user("/pro") else {
        return view! { <p>"Please " <a href="/login?next=/pro">"sign in"</a> "."</p> }.into_any();
    };
    if user.role != Role::Pro {
        set_status(403);
        return view! {
            <PageMeta title="Pro tools" description="The tools of the Pro plan." />
            <section class="hero" data-testid="upgrade-offer">
                <h1>"Pro tools are part of the Pro plan"</h1>
                <p class="lead">"Upgrade to Pro for priority support, advanced exports and team seats."</p>
                <p><a href="/pricing" class="button primary">"Upgrade to Pro"</a></p>
            </section>
        }
        .into_any();
    }
    let insights = Suspend::new(async move {
        match pro_insights().await {
            Ok(items) => items
                .into_iter()
                .map(|i| view! { <li>{i}</li> })
                .collect_view()
                .into_any(),
            Err(_) => view! { <li>"Could not load your Pro tools."</li> }.into_any(),
        }
    });
    view! {
        <PageMeta title="Pro tools" description="The tools of the Pro plan." />
        <section class="dashboard" data-testid="pro-page">
            <h1>"Pro tools"</h1>
            <ul class="features"><Suspense fallback=|| ()>{insights}</Suspense></ul>
        </section>
    }
    .into_any()
}
