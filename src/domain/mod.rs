//! Value types every feature shares. A leaf: nothing here imports another module of the crate.
//!
//! Each type is parsed once at the edge (`FromStr`, `parse`) and carried typed from there on, so a
//! swapped argument or an unknown status is a compile error or a parse error, never a silent mismatch.

mod access;
mod date;
mod email;
mod ids;
mod interval;
mod local_path;
mod money;
mod order;
mod role;
mod shipping;
mod subscription_status;

pub use access::{Access, RENEWAL_SLACK_SECS, SubscriptionTerms, access_at};
pub use date::format_date;
pub use email::Email;
pub use ids::{CheckoutSessionId, CustomerId, EventId, PriceId, ProductId, UserId};
pub use interval::Interval;
pub use local_path::LocalPath;
pub use money::Money;
pub use order::{MAX_CART_LINES, MAX_LINE_QUANTITY, OrderId, OrderStatus, PaymentFlow, Quantity};
pub use role::Role;
pub use shipping::{
    Country, DeliveryEstimate, ShippingAddress, ShippingRate, parse_shipping_rates,
};
pub use subscription_status::SubscriptionStatus;

/// The error of a `FromStr` on a closed set of names: says which value was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}")]
pub struct UnknownName {
    kind: &'static str,
    value: String,
}

impl UnknownName {
    fn new(kind: &'static str, value: &str) -> Self {
        Self {
            kind,
            value: value.to_owned(),
        }
    }
}
