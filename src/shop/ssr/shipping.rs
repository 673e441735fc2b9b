//! What an order offers to ship with: the configured countries and the rates in the order's
//! currency, each at its amount for this order's goods (free above its threshold).

use super::Shop;
use super::payment::{OrderLine, total_of};
use crate::error::{AppError, AppResult};
use crate::shop::CANNOT_SHIP;
use crate::stripe_gateway::ShippingOffer;

impl Shop {
    /// `None` when nothing in the order is sent by post (downloads only). An order of shippable
    /// goods in a currency without configured rates cannot be shipped, and is refused.
    pub(super) fn shipping_offer(
        &self,
        lines: &[OrderLine<'_>],
        currency: &str,
    ) -> AppResult<Option<ShippingOffer<'_>>> {
        if !lines.iter().any(|l| l.good.shippable) {
            return Ok(None);
        }
        let selling = &self.config.selling;
        let subtotal = total_of(lines);
        let rates: Vec<_> = selling
            .rates_in(currency)
            .into_iter()
            .map(|rate| (rate, rate.amount_for(subtotal)))
            .collect();
        if rates.is_empty() {
            tracing::warn!(
                currency,
                "no shipping rate in the order's currency (SHIPPING_RATES)"
            );
            return Err(AppError::Invalid(CANNOT_SHIP.into()));
        }
        Ok(Some(ShippingOffer {
            countries: &selling.ship_to,
            rates,
        }))
    }
}
