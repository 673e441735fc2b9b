//! What our own pay page asks Stripe before it charges (issue 22): a promotion code by what the
//! buyer typed, and a Tax Calculation for the goods and the shipping to an address.

use super::{GatewayError, StripeGateway};
use crate::domain::{ProductId, ShippingAddress};
use stripe_misc::tax_calculation::{
    CreateTaxCalculation, CreateTaxCalculationCustomerDetails,
    CreateTaxCalculationCustomerDetailsAddress, CreateTaxCalculationCustomerDetailsAddressSource,
    CreateTaxCalculationLineItems, CreateTaxCalculationShippingCost,
};
use stripe_product::promotion_code::ListPromotionCode;

/// A promotion code as Stripe holds it, with its coupon's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionRecord {
    pub id: String,
    pub code: String,
    pub active: bool,
    pub expires_at: Option<i64>,
    pub max_redemptions: Option<i64>,
    pub times_redeemed: i64,
    /// `restrictions.minimum_amount` and its currency.
    pub minimum_amount: Option<(i64, String)>,
    /// The coupon's percentage in basis points (Stripe sends a decimal such as 12.5).
    pub percent_off_bp: Option<i64>,
    /// The coupon's fixed amount off and its currency.
    pub amount_off: Option<(i64, String)>,
    /// The coupon can still be redeemed.
    pub coupon_valid: bool,
}

/// One line of a Tax Calculation: what the buyer pays for it after its discount share.
#[derive(Debug, Clone)]
pub struct TaxLine {
    pub amount: i64,
    pub quantity: i64,
    pub reference: String,
    /// Its tax code comes from the product.
    pub product: ProductId,
}

/// What Stripe Tax computed: the calculation to attach to the intent, its tax and its total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxQuote {
    pub calculation_id: String,
    pub tax: i64,
    pub total: i64,
}

impl StripeGateway {
    /// The active promotion code the buyer typed, if Stripe knows it.
    pub async fn promotion_code_named(
        &self,
        code: &str,
    ) -> Result<Option<PromotionRecord>, GatewayError> {
        let list = self
            .with_retries("find promotion code", || {
                let request = ListPromotionCode::new()
                    .code(code)
                    .active(true)
                    .expand(vec!["data.promotion.coupon".to_owned()]);
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(list.data.first().map(|p| {
            let coupon = p.promotion.coupon.as_ref().and_then(|c| c.as_object());
            let restrictions = &p.restrictions;
            PromotionRecord {
                id: p.id.to_string(),
                code: p.code.clone(),
                active: p.active,
                expires_at: p.expires_at,
                max_redemptions: p.max_redemptions,
                times_redeemed: p.times_redeemed,
                minimum_amount: restrictions.minimum_amount.map(|amount| {
                    let currency = restrictions
                        .minimum_amount_currency
                        .as_ref()
                        .map(|c| c.to_string())
                        .unwrap_or_default();
                    (amount, currency)
                }),
                // A percentage, not money: basis points keep two decimals exactly.
                percent_off_bp: coupon
                    .and_then(|c| c.percent_off)
                    .map(|p| (p * 100.0).round() as i64),
                amount_off: coupon
                    .and_then(|c| Some((c.amount_off?, c.currency.as_ref()?.to_string()))),
                coupon_valid: coupon.is_some_and(|c| c.valid),
            }
        }))
    }

    /// Stripe Tax for `lines` and `shipping` (minor units, tax on top) sent to `address`.
    pub async fn calculate_tax(
        &self,
        currency: &str,
        lines: &[TaxLine],
        shipping: i64,
        address: &ShippingAddress,
    ) -> Result<TaxQuote, GatewayError> {
        let currency: stripe_types::Currency = currency
            .parse()
            .map_err(|_| GatewayError::Unexpected(format!("currency {currency}")))?;
        let items: Vec<CreateTaxCalculationLineItems> = lines
            .iter()
            .map(|line| {
                let mut item = CreateTaxCalculationLineItems::new(line.amount);
                item.quantity = u64::try_from(line.quantity).ok();
                item.reference = Some(line.reference.clone());
                item.product = Some(line.product.to_string());
                item
            })
            .collect();
        let mut place = CreateTaxCalculationCustomerDetailsAddress::new(address.country.as_str());
        place.line1 = Some(address.line1.clone());
        place.line2 = address.line2.clone();
        place.city = Some(address.city.clone());
        place.state = address.state.clone();
        place.postal_code = Some(address.postal_code.clone());
        let mut customer = CreateTaxCalculationCustomerDetails::new();
        customer.address = Some(place);
        customer.address_source = Some(CreateTaxCalculationCustomerDetailsAddressSource::Shipping);
        let mut shipping_cost = CreateTaxCalculationShippingCost::new();
        shipping_cost.amount = Some(shipping);
        let calculation = self
            .with_retries("create tax calculation", || {
                let request = CreateTaxCalculation::new(currency.clone(), items.clone())
                    .customer_details(customer.clone())
                    .shipping_cost(shipping_cost.clone());
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(TaxQuote {
            calculation_id: calculation
                .id
                .map(|id| id.to_string())
                .ok_or_else(|| GatewayError::Unexpected("tax calculation without id".into()))?,
            tax: calculation.tax_amount_exclusive,
            total: calculation.amount_total,
        })
    }
}
