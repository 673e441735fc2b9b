//! `/api/pay_details`, the pay page's delivery form (issue 22).
// One argument per form field, as a server function takes a plain form's fields.
#![allow(clippy::too_many_arguments)]

#[cfg(feature = "ssr")]
use crate::request::{accepts_html, see_other};
use leptos::prelude::*;

/// Keeps the address, the rate and the promotion code entered on `/shop/pay` (issue 22) and shows
/// the page again with the cart priced with them. A plain form: works without JavaScript.
#[server(prefix = "/api", endpoint = "pay_details")]
pub async fn pay_details(
    name: Option<String>,
    line1: Option<String>,
    line2: Option<String>,
    city: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
    rate: Option<String>,
    code: Option<String>,
) -> Result<(), ServerFnError> {
    crate::error::server_fn(async move {
        let Some(user) = crate::auth::session_user("/shop/pay")? else {
            return Ok(());
        };
        let shop = crate::state::from_context::<super::ssr::Shop>()?;
        let session = super::ssr::SessionCart::of_request().await?;
        let text = |v: Option<String>| v.unwrap_or_default().trim().chars().take(200).collect();
        let details = super::ssr::PayDetails {
            name: text(name),
            line1: text(line1),
            line2: text(line2),
            city: text(city),
            postal_code: text(postal_code),
            country: text(country),
            rate: text(rate),
            code: text(code),
        };
        shop.set_pay_details(user.id, &session, details).await?;
        if accepts_html() {
            see_other("/shop/pay");
        }
        Ok(())
    })
    .await
}
