//! Money movement and object lifecycles shared by the API, the hosted pages and the clock.

pub(crate) mod cards;
pub(crate) mod checkout;
pub(crate) mod confirm;
pub(crate) mod customers;
pub(crate) mod discounts;
pub(crate) mod intents;
pub(crate) mod payment_mode;
pub(crate) mod payments;
pub(crate) mod plan_change;
pub(crate) mod refunds;
pub(crate) mod shipping;
pub(crate) mod subscriptions;
pub(crate) mod tax;
pub(crate) mod totals;
