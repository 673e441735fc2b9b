//! storefront: sell SaaS subscriptions through Stripe.
//!
//! Pages render on the server; the browser build (`hydrate`) only hydrates the islands.
//! Module layers and which may import which: docs/ARCHITECTURE.md. Only what the binary and the
//! integration tests need is public; everything else is crate-private, so the compiler reports
//! dead code.

// The browser build compiles the page components but runs only the islands, so most of the crate is
// unused there by design. Dead code is reported by the server build, which uses all of it.
#![cfg_attr(not(feature = "ssr"), allow(dead_code, unused_imports))]
// Leptos views are deeply nested types; the release browser build needs more than the default 128.
#![recursion_limit = "256"]

mod account;
pub mod app;
mod auth;
mod billing;
mod catalog;
mod components;
mod csp;
mod dashboard;
mod domain;
mod request;
mod shop;

#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
mod customers;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod error;
#[cfg(feature = "ssr")]
pub mod installation;
#[cfg(feature = "ssr")]
mod mail;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
mod stripe_gateway;
#[cfg(feature = "ssr")]
mod stripe_sync;
#[cfg(feature = "ssr")]
mod webhooks;

#[cfg(feature = "ssr")]
pub use auth::ssr::SESSION_COOKIE;
#[cfg(feature = "ssr")]
pub use billing::ssr::{Billing, CustomerSynced};
#[cfg(feature = "ssr")]
pub use catalog::ssr::CatalogSyncReport;
#[cfg(feature = "ssr")]
pub use domain::{CustomerId, Email, Money};
#[cfg(feature = "ssr")]
pub use mail::templates::{OrderReceipt, ReceiptLine, order_receipt};
#[cfg(feature = "ssr")]
pub use mail::{Mail, MailKind, enqueue};
/// For the schema contract test: the order columns the order views read.
#[cfg(feature = "ssr")]
pub use shop::ssr::ORDER_COLUMNS;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
