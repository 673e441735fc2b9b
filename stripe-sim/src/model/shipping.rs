//! Shipping rates, and the address a buyer ships to (Checkout's `shipping_address_collection`,
//! `shipping_options`; a PaymentIntent's `shipping`).

use super::Meta;

/// One end of a delivery estimate: `value` business days, weeks, ….
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EstimateBound {
    pub(crate) unit: String,
    pub(crate) value: i64,
}

/// A `shipping_rate` of type `fixed_amount`, the only type Stripe has.
#[derive(Debug, Clone)]
pub(crate) struct ShippingRate {
    pub(crate) id: String,
    pub(crate) display_name: String,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) active: bool,
    pub(crate) minimum: Option<EstimateBound>,
    pub(crate) maximum: Option<EstimateBound>,
    pub(crate) metadata: Meta,
    pub(crate) tax_behavior: String,
    pub(crate) tax_code: Option<String>,
    pub(crate) created: i64,
}

/// A postal address as Stripe shows it: every part may be null.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Address {
    pub(crate) line1: Option<String>,
    pub(crate) line2: Option<String>,
    pub(crate) city: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) postal_code: Option<String>,
    /// Two-letter ISO code.
    pub(crate) country: Option<String>,
}

/// Who a parcel goes to, and where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ShippingDetails {
    pub(crate) name: String,
    pub(crate) address: Address,
}
