//! Checkout, the Billing Portal and the page Stripe sends the customer back to.

mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use pages::SuccessPage;

use leptos::prelude::*;

/// Starts a subscription: 303 to Stripe Checkout (or to the portal for a current subscriber).
#[server(prefix = "/api", endpoint = "start_checkout")]
pub async fn start_checkout(price_id: String) -> Result<(), ServerFnError> {
    use crate::auth::{current_user, ssr::app_state};
    use crate::error::AppError;
    let result = async {
        let Some(user) = current_user() else {
            see_other("/login?next=/pricing");
            return Ok(());
        };
        let state = app_state()?;
        let url = ssr::checkout_destination(&state, &user, price_id.trim()).await?;
        see_other(&url);
        Ok::<_, AppError>(())
    };
    result.await.map_err(AppError::into_server_fn_error)
}

/// Opens the Stripe Billing Portal for the signed-in user: 303 to the portal.
#[server(prefix = "/api", endpoint = "open_billing_portal")]
pub async fn open_billing_portal() -> Result<(), ServerFnError> {
    use crate::auth::{current_user, ssr::app_state};
    use crate::error::AppError;
    let result = async {
        let Some(user) = current_user() else {
            see_other("/login?next=/dashboard");
            return Ok(());
        };
        let url = ssr::open_portal(&app_state()?, &user).await?;
        see_other(&url);
        Ok::<_, AppError>(())
    };
    result.await.map_err(AppError::into_server_fn_error)
}

/// Redirects with 303 See Other for a plain form post (the browser then GETs the target), and with
/// server_fn's redirect header for a script.
#[cfg(feature = "ssr")]
fn see_other(url: &str) {
    leptos_axum::redirect(url);
    let accepts_html = use_context::<axum::http::request::Parts>()
        .and_then(|p| {
            p.headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .is_some_and(|a| a.contains("text/html"));
    if accepts_html && let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::SEE_OTHER);
    }
}
