//! `/pro`: only Pro subscribers, enforced on the server for the page and its server function.

use crate::auth::{Role, current_user};
use leptos::prelude::*;

/// Data behind the Pro page; refused on the server for anyone but Pro.
#[server(prefix = "/api", endpoint = "pro_insights")]
pub async fn pro_insights() -> Result<Vec<String>, ServerFnError> {
    use crate::error::AppError;
    let user = current_user();
    match user {
        None => Err(AppError::Unauthenticated.into_server_fn_error()),
        Some(user) if user.role != Role::Pro => Err(AppError::Forbidden.into_server_fn_error()),
        Some(_) => Ok(vec![
            "Priority support: answers within 4 business hours".to_owned(),
            "Advanced exports: CSV and Parquet".to_owned(),
            "Team seats: invite up to 10 people".to_owned(),
        ]),
    }
}

#[component]
pub fn ProPage() -> impl IntoView {
    let Some(user) = current_user() else {
        #[cfg(feature = "ssr")]
        leptos_axum::redirect("/login?next=/pro");
        return view! { <p>"Please " <a href="/login?next=/pro">"sign in"</a> "."</p> }.into_any();
    };
    if user.role != Role::Pro {
        #[cfg(feature = "ssr")]
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::FORBIDDEN);
        }
        return view! {
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
        <section class="dashboard" data-testid="pro-page">
            <h1>"Pro tools"</h1>
            <ul class="features"><Suspense fallback=|| ()>{insights}</Suspense></ul>
        </section>
    }
    .into_any()
}
