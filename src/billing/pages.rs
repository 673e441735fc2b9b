use crate::auth::current_user;
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
    let Some(user) = current_user() else {
        #[cfg(feature = "ssr")]
        leptos_axum::redirect(&format!(
            "/login?next=/billing/success%3Fsession_id%3D{session_id}"
        ));
        return view! { <p>"Please sign in."</p> }.into_any();
    };
    let body = Suspend::new(async move { success_body(user, session_id).await });
    view! { <Suspense fallback=|| ()>{body}</Suspense> }.into_any()
}

#[cfg(feature = "ssr")]
async fn success_body(user: crate::auth::User, session_id: String) -> AnyView {
    use super::ssr::{CheckoutResult, complete_checkout};
    use crate::error::AppError;
    let Ok(state) = crate::auth::ssr::app_state() else {
        return processing().into_any();
    };
    match complete_checkout(&state, &user, &session_id).await {
        Ok(CheckoutResult::Complete(role)) => view! {
            <section class="hero">
                <h1>"Welcome aboard!"</h1>
                <p class="lead" data-testid="success-plan">{format!("You are now on the {} plan.", role.label())}</p>
                <p><a href="/dashboard" class="button primary">"Go to your dashboard"</a></p>
            </section>
        }
        .into_any(),
        Ok(CheckoutResult::Processing) => processing().into_any(),
        Err(error) => {
            let status = error.status();
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(status);
            }
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
    }
}

#[cfg(not(feature = "ssr"))]
async fn success_body(_user: crate::auth::User, _session_id: String) -> AnyView {
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
