//! The shop: goods and stock, the cart in the session, checkout of a cart with its stock reserved,
//! and fulfilment from Stripe's state (webhooks, the success page, expiry, refunds).

mod amounts;
mod cart;
mod checkout;
mod fulfilment;
mod guests;
mod order_sync;
mod paid_once;
mod pay_details;
mod pay_on_page;
mod replay;
mod selling;
mod sweep;
mod switching;
mod variants;
