//! The hosted page's shipping step: where the parcel goes and which rate, before payment. The
//! session's totals follow the chosen rate and address (`totals`).

use crate::error::ApiError;
use crate::model::{Address, ShippingDetails};
use crate::store::Store;

/// What a buyer enters on the shipping step (`Sim::act().choose_shipping` in tests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShippingChoice {
    pub name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub state: Option<String>,
    pub postal_code: String,
    /// Two-letter ISO code.
    pub country: String,
    /// One of the session's `shipping_options`; the selected one when `None`.
    pub rate: Option<String>,
}

fn required(value: &str, param: &str, what: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::invalid(
            param,
            format!("Your {what} is incomplete."),
        ));
    }
    Ok(value.to_owned())
}

fn optional(value: Option<&String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Records the address (when the session collects one) and the rate; refuses a country the
/// session does not ship to and a rate it does not offer.
pub(crate) fn choose(store: &mut Store, id: &str, choice: &ShippingChoice) -> Result<(), ApiError> {
    super::checkout::open_session(store, id)?;
    let session = store
        .session(id)
        .ok_or_else(|| ApiError::missing_resource("checkout.session", id, "session"))?;
    let rate = match &choice.rate {
        Some(rate) => Some(
            session
                .shipping_options
                .iter()
                .find(|(option, _)| option == rate)
                .cloned()
                .ok_or_else(|| {
                    ApiError::invalid(
                        "shipping_rate",
                        "Choose one of the shipping methods.".to_owned(),
                    )
                })?,
        ),
        None => session.shipping_rate.clone(),
    };
    let details = match &session.shipping_countries {
        Some(countries) => {
            let country = choice.country.trim().to_ascii_uppercase();
            if !countries.contains(&country) {
                return Err(ApiError::invalid(
                    "shipping_address[country]",
                    "We cannot ship to this country.".to_owned(),
                ));
            }
            Some(ShippingDetails {
                name: required(&choice.name, "shipping_name", "name")?,
                address: Address {
                    line1: Some(required(
                        &choice.line1,
                        "shipping_address[line1]",
                        "address",
                    )?),
                    line2: optional(choice.line2.as_ref()),
                    city: Some(required(&choice.city, "shipping_address[city]", "city")?),
                    state: optional(choice.state.as_ref()),
                    postal_code: Some(required(
                        &choice.postal_code,
                        "shipping_address[postal_code]",
                        "postal code",
                    )?),
                    country: Some(country),
                },
            })
        }
        None => None,
    };
    if let Some(s) = store.session_mut(id) {
        s.shipping_rate = rate;
        s.shipping_details = details;
        s.shipping_chosen = true;
    }
    super::totals::recompute(store, id);
    Ok(())
}
