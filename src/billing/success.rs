use crate::auth::{User, require_user};
use crate::components::PageMeta;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/billing/success?session_id=…`: Stripe Checkout returns here. Rendered with `SsrMode::Async`, so the
/// status code (404 for someone else's session) is set before the response starts.
#[component]
pub fn SuccessPage() -> impl IntoView {
    let session_id = use_query_map()
        .read_untracked()
        .get("session_id")
        .unwrap_or_default();
    let here = format!("/billing/success?session_id={session_id}");
    let Some(user) = require_user(&here) else {
        return view! { <p>"Please sign in."</p> }.into_any();
    };
    let body = Suspend::new(async move { success_body(user, session_id).await });
    view! {
        <PageMeta title="Your subscription" description="The result of your subscription checkout." />
        <Suspense fallback=|| ()>{body}</Suspense>
    }
    .into_any()
}

/// Server only: page components never run in the browser (islands mode), which sees this page's HTML.
#[cfg(feature = "ssr")]
async fn success_body(user: User, session_id: String) -> AnyView {
    use super::ssr::{Billing, CheckoutResult};
    use crate::error::AppError;
    let result = match crate::state::from_context::<Billing>() {
        Ok(billing) => billing.complete_checkout(&user, &session_id).await,
        Err(error) => Err(error),
    };
    let error = match result {
        Ok(CheckoutResult::Complete(role)) => {
            return view! {
                <section class="hero">
                    <h1>"Welcome aboard!"</h1>
                    <p class="lead" data-testid="success-plan">{format!("You are now on the {} plan.", role.label())}</p>
                    <p><a href="/dashboard" class="button primary">"Go to your dashboard"</a></p>
                </section>
            }
            .into_any();
        }
        Ok(CheckoutResult::Processing) => return processing().into_any(),
        Err(error) => error,
    };
    crate::request::set_status(error.status().as_u16());
    let message = match error {
        AppError::NotFound => "We could not find that checkout.".to_owned(),
        other => other.public_message(),
    };
    view! {
        <section class="hero">
            <h1>"Checkout"</h1>
            <p class="notice error" role="alert">{message}</p>
            <p><a href="/dashboard">"Go to your dashboard"</a></p>
        </section>
    }
    .into_any()
}

#[cfg(not(feature = "ssr"))]
async fn success_body(_user: User, _session_id: String) -> AnyView {
    processing().into_any()
}

fn processing() -> impl IntoView {
    view! {
        <section class="hero">
            <h1>"Payment received"</h1>
            <p class="lead" data-testid="success-processing">
                "Stripe is still confirming your subscription. Your dashboard updates as soon as it is done."
            </p>
            <p><a href="/dashboard" class="button primary">"Go to your dashboard"</a></p>
        </section>
    }
}
