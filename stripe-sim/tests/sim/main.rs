//! Integration tests: the real async-stripe client and plain HTTP against `Sim::start` on a
//! random port. One test binary keeps link time down on small machines.

mod account;
mod api;
mod api_gate;
mod bank;
mod clock;
mod common;
mod conventions;
mod customers;
mod declines;
mod discounts;
mod faults;
mod hosted;
mod intent_helpers;
mod intent_rules;
mod intents;
mod payments;
mod portal;
mod refunds;
mod shapes;
mod shipping;
mod shop;
mod stripe_js;
mod tax;
mod timing;
mod webhooks;
