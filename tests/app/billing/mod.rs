//! Subscriptions end to end over HTTP: the app and stripe-sim on random ports, a fresh database.

mod access;
mod checkout;
mod lifecycle;
mod limits;
mod mails;
mod ownership;
mod portal;
