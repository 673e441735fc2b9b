//! Selling plans: the pricing page, Checkout, the Billing Portal, and the page Stripe sends the
//! customer back to.

mod pricing;
#[cfg(feature = "ssr")]
pub mod ssr;
mod success;

pub use pricing::{PlanGrid, PricingPage};
pub use success::SuccessPage;

use crate::request::see_other;

// The messages billing's server code raises for a form; `billing::ssr`'s contract test checks that
// every one it raises is listed below.
pub const PLAN_NOT_ON_SALE: &str =
    "That plan is not on sale. Please choose one of the plans below.";
pub const NO_BILLING_ACCOUNT: &str = "You have no billing account yet. Choose a plan first.";

/// What Checkout and the portal buttons may answer besides the common errors (`FormError` shows
/// nothing else).
pub const BILLING_FORM_MESSAGES: &[&str] = &[PLAN_NOT_ON_SALE, NO_BILLING_ACCOUNT];
use leptos::prelude::*;

/// Starts a subscription: 303 to Stripe Checkout (or to the portal for a current subscriber).
#[server(prefix = "/api", endpoint = "start_checkout")]
pub async fn start_checkout(price_id: String) -> Result<(), ServerFnError> {
    crate::error::server_fn(async move {
        let Some(user) = crate::auth::session_user("/pricing")? else {
            return Ok(());
        };
        let billing = crate::state::from_context::<ssr::Billing>()?;
        see_other(&billing.checkout_destination(&user, price_id.trim()).await?);
        Ok(())
    })
    .await
}

/// Opens the Stripe Billing Portal for the signed-in user: 303 to the portal.
#[server(prefix = "/api", endpoint = "open_billing_portal")]
pub async fn open_billing_portal() -> Result<(), ServerFnError> {
    crate::error::server_fn(async move {
        let Some(user) = crate::auth::session_user("/dashboard")? else {
            return Ok(());
        };
        let billing = crate::state::from_context::<ssr::Billing>()?;
        see_other(&billing.open_portal(&user).await?);
        Ok(())
    })
    .await
}
