//! What the shop sells with, beside the catalog: where it ships (`SHIP_TO_COUNTRIES`), the rates it
//! offers (`SHIPPING_RATES`), and whether Stripe Tax computes tax (`STRIPE_TAX`).

use super::{ConfigError, err};
use crate::domain::{Country, ShippingRate, parse_shipping_rates};

/// The countries a Checkout Session lets the buyer ship to when none are configured.
const DEFAULT_SHIP_TO: &str = "US,CA,GB,DE,FR,NL,AU,JP";
/// Flat standard shipping, free from $50, and an express option, in the seed catalog's currency.
const DEFAULT_SHIPPING_RATES: &str =
    "Standard=500 usd, 3-5 days, free from 5000; Express=1500 usd, 1-2 days";

#[derive(Debug, Clone)]
pub struct SellingConfig {
    pub ship_to: Vec<Country>,
    /// Offered to an order in the rate's currency; an order in a currency without rates cannot be
    /// shipped and is refused with a message.
    pub shipping_rates: Vec<ShippingRate>,
    /// `STRIPE_TAX=on`: Checkout runs `automatic_tax` and our own page asks Stripe's Tax
    /// Calculations API. Needs Stripe Tax set up on the account (stripe-sim always has it).
    pub automatic_tax: bool,
}

impl SellingConfig {
    /// The rates offered to an order in `currency`, in the configured order.
    pub fn rates_in(&self, currency: &str) -> Vec<&ShippingRate> {
        self.shipping_rates
            .iter()
            .filter(|r| r.amount.currency.eq_ignore_ascii_case(currency))
            .collect()
    }
}

pub(super) fn selling_config(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<SellingConfig, ConfigError> {
    let countries = get("SHIP_TO_COUNTRIES").unwrap_or_else(|| DEFAULT_SHIP_TO.into());
    let ship_to = countries
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| c.parse::<Country>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ConfigError(format!("SHIP_TO_COUNTRIES: {e}")))?;
    if ship_to.is_empty() {
        return err("SHIP_TO_COUNTRIES needs at least one country code, like US,CA");
    }
    let rates = get("SHIPPING_RATES").unwrap_or_else(|| DEFAULT_SHIPPING_RATES.into());
    let shipping_rates =
        parse_shipping_rates(&rates).map_err(|e| ConfigError(format!("SHIPPING_RATES: {e}")))?;
    let automatic_tax = match get("STRIPE_TAX").as_deref() {
        None | Some("off") => false,
        Some("on") => true,
        Some(other) => return err(format!("STRIPE_TAX={other:?}: use on or off")),
    };
    Ok(SellingConfig {
        ship_to,
        shipping_rates,
        automatic_tax,
    })
}
