//! Money movement and object lifecycles shared by the API, the hosted pages and the clock.

pub mod checkout;
pub mod payments;
pub mod subscriptions;
