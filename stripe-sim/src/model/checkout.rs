//! Checkout Sessions and Billing Portal sessions.

use super::{Meta, ShippingDetails};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionStatus {
    Open,
    Complete,
    Expired,
}

impl SessionStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Complete => "complete",
            Self::Expired => "expired",
        }
    }
}

/// The one discount of a session: a coupon, through a promotion code or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppliedDiscount {
    pub(crate) coupon: String,
    pub(crate) promotion_code: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct SessionLine {
    pub(crate) id: String,
    pub(crate) price: String,
    pub(crate) quantity: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct CheckoutSession {
    pub(crate) id: String,
    pub(crate) mode: String,
    pub(crate) status: SessionStatus,
    pub(crate) payment_status: &'static str,
    pub(crate) customer: Option<String>,
    pub(crate) customer_email: Option<String>,
    pub(crate) customer_creation: Option<String>,
    pub(crate) client_reference_id: Option<String>,
    pub(crate) metadata: Meta,
    pub(crate) lines: Vec<SessionLine>,
    pub(crate) success_url: Option<String>,
    pub(crate) cancel_url: Option<String>,
    pub(crate) allow_promotion_codes: Option<bool>,
    pub(crate) trial_period_days: Option<i64>,
    pub(crate) subscription_metadata: Meta,
    pub(crate) subscription_description: Option<String>,
    /// `payment_intent_data[metadata]`: copied to the PaymentIntent (and its Charge).
    pub(crate) payment_intent_metadata: Meta,
    pub(crate) subscription: Option<String>,
    pub(crate) invoice: Option<String>,
    pub(crate) payment_intent: Option<String>,
    pub(crate) created: i64,
    pub(crate) expires_at: i64,
    pub(crate) currency: String,
    pub(crate) amount_subtotal: i64,
    pub(crate) amount_total: i64,
    pub(crate) locale: Option<String>,
    /// E-mail entered on the hosted page (shown as `customer_details.email`).
    pub(crate) collected_email: Option<String>,
    /// A card waiting for the 3-D Secure step.
    pub(crate) pending_payment_method: Option<String>,
    /// The methods the session may be paid with, from `allowed_payment_method_types` (a filter on
    /// the account's methods) or the older `payment_method_types` (only `card` is accepted); empty:
    /// the account's methods, which here are cards and, in payment mode, US bank accounts.
    pub(crate) payment_method_types: Vec<String>,
    /// `shipping_address_collection[allowed_countries]`: the address is asked for on the page.
    pub(crate) shipping_countries: Option<Vec<String>>,
    /// `shipping_options`: rate id and amount.
    pub(crate) shipping_options: Vec<(String, i64)>,
    /// The rate selected (the first option until the buyer chooses) and its amount.
    pub(crate) shipping_rate: Option<(String, i64)>,
    /// The address entered on the page.
    pub(crate) shipping_details: Option<ShippingDetails>,
    /// The buyer has been through the page's shipping step.
    pub(crate) shipping_chosen: bool,
    pub(crate) discount: Option<AppliedDiscount>,
    /// What the discount takes off the goods (in `amount_total` already).
    pub(crate) amount_discount: i64,
    /// `automatic_tax[enabled]`: tax from the sim's rate table (`billing::totals`).
    pub(crate) automatic_tax: bool,
    /// Every tax of the session (exclusive and inclusive), each line's, and shipping's.
    pub(crate) amount_tax: i64,
    pub(crate) line_taxes: Vec<i64>,
    pub(crate) shipping_tax: i64,
    /// Whether the place that decides the tax is known (else the tax waits for the address).
    pub(crate) tax_located: bool,
}

impl CheckoutSession {
    /// The shipping amount in `amount_total` (the selected rate's).
    pub(crate) fn amount_shipping(&self) -> i64 {
        self.shipping_rate.as_ref().map_or(0, |(_, amount)| *amount)
    }

    /// Whether the hosted page still has to ask where to ship (or which rate): an address is
    /// collected and none was given, or there is more than one rate to choose from.
    pub(crate) fn needs_shipping_step(&self) -> bool {
        !self.shipping_chosen
            && (self.shipping_countries.is_some() || self.shipping_options.len() > 1)
    }

    /// Whether the session may be paid by bank debit: payment mode, and no list without it.
    pub(crate) fn accepts_bank_debit(&self) -> bool {
        self.mode == "payment"
            && (self.payment_method_types.is_empty()
                || self
                    .payment_method_types
                    .iter()
                    .any(|t| t == "us_bank_account"))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct PortalSession {
    pub(crate) id: String,
    pub(crate) customer: String,
    pub(crate) return_url: Option<String>,
    pub(crate) created: i64,
    pub(crate) locale: Option<String>,
    pub(crate) flash: Option<String>,
}
