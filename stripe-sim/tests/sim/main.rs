//! Integration tests: the real async-stripe client and plain HTTP against `Sim::start` on a
//! random port. One test binary keeps link time down on small machines.

mod api;
mod clock;
mod common;
mod conventions;
mod faults;
mod hosted;
mod portal;
mod shapes;
mod webhooks;
