//! Integration tests for storefront: each test starts the real app (router, database, background
//! tasks) and its own stripe-sim on random ports, then drives them over HTTP like a browser, a
//! script or Stripe would. One test binary keeps link time down on small machines.
//!
//! Environment:
//! - `STOREFRONT_TEST_DB=sqlite|postgres`: the database backend (default `sqlite`, a fresh file in a
//!   temporary directory per test).
//! - `TEST_POSTGRES_URL`: with `postgres`, the server on which each test creates (and afterwards
//!   drops) a database of its own; default `postgres://postgres@127.0.0.1:5432/postgres`.
//! - `TEST_LOG=1`: print the app's logs (they bypass the test harness's output capture).
//!
//! Every app sends mail to one maildev (`end2end/node_modules/.bin/maildev`) that the first test
//! starts for the whole process and that ends with it (`helpers::maildev`).

mod accounts;
mod auth;
mod billing;
mod caching;
mod catalog;
mod compression;
mod crash;
mod headers;
mod helpers;
mod mail;
mod operations;
mod redirects;
mod schema;
mod sessions;
mod shop;
mod slow_stripe;
mod throttling;
mod webhooks;
