//! Integration tests: the real async-stripe client and plain HTTP against `Sim::start` on a
//! random port. One test binary keeps link time down on small machines.

mod account;
mod api;
mod clock;
mod common;
mod conventions;
mod customers;
mod faults;
mod hosted;
mod portal;
mod shapes;
mod webhooks;
