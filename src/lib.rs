//! storefront: sell SaaS subscriptions through Stripe.
//!
//! Pages render on the server; the browser build (`hydrate`) only hydrates the islands.

pub mod app;
pub mod auth;
pub mod billing;
pub mod catalog;
pub mod components;
pub mod dashboard;

#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod error;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod webhooks;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
