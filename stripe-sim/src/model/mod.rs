//! The sim's object model: plain data for every Stripe object it stores. The store that holds
//! them is `store::Store`; their JSON is rendered by `render`.

mod account;
mod billing;
mod catalog;
mod checkout;
mod customers;
mod discounts;
mod events;
mod payments;
mod shipping;
mod tax;

use std::collections::BTreeMap;

pub(crate) use account::Account;
pub use account::DEFAULT_ACCOUNT_ID;
pub(crate) use billing::{
    Invoice, InvoiceLine, InvoiceStatus, PendingItem, SubItem, SubStatus, Subscription,
};
pub(crate) use catalog::{Price, Product, Recurring};
pub(crate) use checkout::{
    AppliedDiscount, CheckoutSession, PortalSession, SessionLine, SessionStatus,
};
pub(crate) use customers::{CardBehavior, Customer, PaymentMethod};
pub(crate) use discounts::{Coupon, PromotionCode};
pub use events::Delivery;
pub(crate) use events::{Endpoint, Event, Outgoing};
pub(crate) use payments::{
    Charge, ChargeStatus, Instrument, IntentStatus, MethodType, NewCharge, NewIntent, NextAction,
    PaymentError, PaymentIntent, ReceiptLine, Refund, Settlement,
};
pub(crate) use shipping::{Address, EstimateBound, ShippingDetails, ShippingRate};
pub(crate) use tax::{TaxCalculation, TaxLine, Taxation, TaxedShipping};

/// `metadata`: string keys to string values, sorted like Stripe's JSON.
pub(crate) type Meta = BTreeMap<String, String>;

/// Applies a `metadata` update as Stripe does: empty values delete keys, an empty map (`metadata=`)
/// clears all.
pub(crate) fn merge_metadata(target: &mut Meta, update: Meta) {
    if update.is_empty() {
        target.clear();
    }
    for (k, v) in update {
        if v.is_empty() {
            target.remove(&k);
        } else {
            target.insert(k, v);
        }
    }
}

/// API version the sim's objects and events are shaped for (async-stripe rc.10's pin).
pub const API_VERSION: &str = "2026-09-30.endive";
