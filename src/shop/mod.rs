//! The shop: goods sold once, a cart in the session, checkout in Stripe's `payment` mode, and the
//! buyer's orders. Pages are server-rendered and work without JavaScript (plain forms posting to
//! the server functions below); two small islands keep the header's cart count current.

mod card_payment;
mod cart_page;
mod islands;
mod order_page;
mod pages;
mod pay_form;
mod pay_page;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use cart_page::CartPage;
pub use islands::{CartCount, current_cart_count};
pub use order_page::{OrderList, OrderPage};
pub use pages::{GoodPage, ShopPage};
pub use pay_form::PayDetails;
pub use pay_page::PayPage;

use crate::domain::{Money, OrderId, OrderStatus};
use crate::request::{accepts_html, see_other};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Shown on `/shop/pay` when `STRIPE_PUBLISHABLE_KEY` is unset (and answered by `pay_cart`).
pub const PAY_ON_PAGE_OFF: &str =
    "Paying on this page is not set up. Please use Stripe's checkout page.";

// The messages the shop's server code raises for a form (`AppError::Invalid`/`Conflict`). They are
// constants here, beside the pages that show them, so that the server code and the list below share
// one text; `shop::ssr`'s contract test checks that every message it raises is in the list.
pub const NOT_ON_SALE: &str = "That item is not on sale.";
pub const SOLD_OUT: &str = "Sorry, that item is sold out.";
pub const TOO_MANY: &str = "You can buy at most 10 of one item.";
pub const CART_FULL: &str = "Your cart is full. Please check out or remove something first.";
pub const BAD_QUANTITY: &str = "Please choose a quantity from 1 to 10.";
pub const MIXED_CURRENCIES: &str = "Please buy items priced in one currency at a time.";
pub const EMPTY_CART: &str = "Your cart is empty.";
/// Starting to pay a cart one of whose orders was paid (security review 2, M2); the cart page then
/// links to that order.
pub const CART_ALREADY_PAID: &str =
    "This cart has already been paid. Your order is on your dashboard.";
pub const PAYMENT_IN_PROGRESS: &str = "A payment for this cart is still being confirmed. Please wait a moment and look at your dashboard.";
/// Paying on our page for a cart that changed after the page showed it (another tab, another device).
pub const CART_CHANGED: &str =
    "Your cart changed since this page was shown. Please check it and pay again.";

/// An order of goods sent by post in a currency `SHIPPING_RATES` has no rate for.
pub const CANNOT_SHIP: &str =
    "Sorry, we cannot ship these goods in their currency yet. Please contact us.";

/// Paying on our page for goods sent by post (or with tax on) before the address is entered.
pub const ADDRESS_NEEDED: &str = "Please enter where to send your order.";
/// An address in a country `SHIP_TO_COUNTRIES` does not list.
pub const CANNOT_SHIP_THERE: &str = "Sorry, we do not ship to that country.";
/// A promotion code Stripe does not know, or that cannot be used for this cart now.
pub const CODE_NOT_VALID: &str = "That promotion code cannot be used for this order.";
/// An address with a part left empty.
pub const ADDRESS_INCOMPLETE: &str =
    "Please fill in the name, street, city, postal code and country.";

/// What the shop's forms may answer besides the common errors (`FormError` shows nothing else).
/// "Sorry, only N left." is recognised by its shape (`components::form_error_text`).
pub const SHOP_FORM_MESSAGES: &[&str] = &[
    NOT_ON_SALE,
    SOLD_OUT,
    TOO_MANY,
    CART_FULL,
    BAD_QUANTITY,
    MIXED_CURRENCIES,
    EMPTY_CART,
    PAY_ON_PAGE_OFF,
    CART_ALREADY_PAID,
    PAYMENT_IN_PROGRESS,
    CART_CHANGED,
    CANNOT_SHIP,
    ADDRESS_NEEDED,
    CANNOT_SHIP_THERE,
    CODE_NOT_VALID,
    ADDRESS_INCOMPLETE,
];

/// One line of the cart page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLineView {
    pub price_id: String,
    pub name: String,
    /// `None` when the item is no longer on sale.
    pub slug: Option<String>,
    pub quantity: u32,
    pub unit: Option<Money>,
    pub line_total: Option<Money>,
    /// Units that can still be bought.
    pub available: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CartView {
    pub lines: Vec<CartLineView>,
    pub total: Option<Money>,
    /// The order the last cart became, when it was bought and nothing was added since.
    pub bought: Option<OrderId>,
    /// Names the cart's contents at its prices: the pay page sends it back, and a cart that differs
    /// is not charged (security review 2, L1).
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItemView {
    pub name: String,
    pub quantity: i64,
    pub unit: Money,
    pub line_total: Money,
}

/// An order's money as Stripe charged it (or, until it is paid, as Stripe last stated it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderCharges {
    pub subtotal: Money,
    pub discount: Money,
    pub shipping: Money,
    pub tax: Money,
    /// The promotion code the buyer entered.
    pub promotion_code: Option<String>,
}

/// One line between an order's items and its total: label, amount as shown, and a test id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeLine {
    pub label: String,
    pub amount: String,
    pub test_id: &'static str,
}

impl OrderView {
    /// Subtotal, discount, shipping and tax as Stripe charged them, for the order page and the
    /// receipt alike. A zero discount or tax is left out; shipping is shown whenever the order
    /// ships ("Free" when it costs nothing).
    pub fn charge_lines(&self) -> Vec<ChargeLine> {
        let Some(charges) = &self.charges else {
            return Vec::new();
        };
        let line = |label: String, amount: String, test_id| ChargeLine {
            label,
            amount,
            test_id,
        };
        let mut lines = vec![line(
            "Subtotal".into(),
            charges.subtotal.format(),
            "order-subtotal",
        )];
        if charges.discount.amount > 0 {
            let label = match &charges.promotion_code {
                Some(code) => format!("Discount ({code})"),
                None => "Discount".to_owned(),
            };
            lines.push(line(
                label,
                format!("-{}", charges.discount.format()),
                "order-discount",
            ));
        }
        if self.shipment.is_some() || charges.shipping.amount > 0 {
            let label = match self.shipment.as_ref().and_then(|s| s.rate.as_ref()) {
                Some(rate) => format!("Shipping ({rate})"),
                None => "Shipping".to_owned(),
            };
            let amount = if charges.shipping.amount == 0 {
                "Free".to_owned()
            } else {
                charges.shipping.format()
            };
            lines.push(line(label, amount, "order-shipping"));
        }
        if charges.tax.amount > 0 {
            lines.push(line("Tax".into(), charges.tax.format(), "order-tax"));
        }
        lines
    }
}

/// Where an order goes, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentView {
    pub rate: Option<String>,
    pub delivery: Option<String>,
    /// As written on the parcel.
    pub address: Vec<String>,
}

/// An order as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    pub id: OrderId,
    pub status: OrderStatus,
    pub items: Vec<OrderItemView>,
    /// Stripe's total once it stated one, else the goods at our prices.
    pub total: Money,
    /// `None` for an order Stripe has not priced yet (or from before shipping and tax).
    pub charges: Option<OrderCharges>,
    pub shipment: Option<ShipmentView>,
    pub refunded: Money,
    pub created_at: i64,
    pub paid_at: Option<i64>,
    /// Bought without an account (reached by its signed link).
    pub guest: bool,
    /// Stripe's receipt page for the payment.
    pub receipt_url: Option<String>,
}

/// Applies a change to the request's cart; a browser's form post goes on to the cart page, a script
/// gets the new item count.
#[cfg(feature = "ssr")]
async fn change_cart(change: ssr::CartChange) -> Result<u32, ServerFnError> {
    crate::error::server_fn(async move {
        let shop = crate::state::from_context::<ssr::Shop>()?;
        let count = shop.change_cart(change).await?;
        if accepts_html() {
            see_other("/cart");
        }
        Ok(count)
    })
    .await
}

/// Adds `quantity` (default 1) of the good sold at `price_id`.
#[server(prefix = "/api", endpoint = "cart_add")]
pub async fn cart_add(price_id: String, quantity: Option<String>) -> Result<u32, ServerFnError> {
    change_cart(ssr::CartChange::Add {
        price_id,
        quantity: quantity.unwrap_or_default(),
    })
    .await
}

/// Sets a line's quantity; 0 removes it.
#[server(prefix = "/api", endpoint = "cart_update")]
pub async fn cart_update(price_id: String, quantity: String) -> Result<u32, ServerFnError> {
    change_cart(ssr::CartChange::Update { price_id, quantity }).await
}

#[server(prefix = "/api", endpoint = "cart_clear")]
pub async fn cart_clear() -> Result<u32, ServerFnError> {
    change_cart(ssr::CartChange::Clear).await
}

/// Creates the order and sends the browser to Stripe Checkout (303). A signed-out visitor checks
/// out as a guest (issue 22): Checkout asks for their e-mail, and the order page is theirs through
/// its signed link.
#[server(prefix = "/api", endpoint = "checkout_cart")]
pub async fn checkout_cart() -> Result<(), ServerFnError> {
    crate::error::server_fn(async move {
        let shop = crate::state::from_context::<ssr::Shop>()?;
        let session = ssr::SessionCart::of_request().await?;
        let user = crate::auth::current_user();
        let buyer = match &user {
            Some(user) => ssr::Buyer::Account(user),
            None => ssr::Buyer::Guest(
                crate::request::client_ip()
                    .ok_or_else(|| crate::error::AppError::Internal("no client address".into()))?,
            ),
        };
        see_other(&shop.checkout(buyer, &session).await?);
        Ok(())
    })
    .await
}

/// What `/api/pay_cart` answers: the order, and what Stripe.js needs to confirm its PaymentIntent.
/// Never an amount: the intent carries the one our server computed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PayCartAnswer {
    pub order_id: i64,
    pub client_secret: String,
    pub publishable_key: String,
}

/// Creates (or reuses) the cart's order and its PaymentIntent, for paying on `/shop/pay`. Called by
/// the card payment island, never by a form, with the version of the cart the page showed.
#[server(prefix = "/api", endpoint = "pay_cart")]
pub async fn pay_cart(cart_version: String) -> Result<PayCartAnswer, ServerFnError> {
    crate::error::server_fn(async move {
        let user = crate::auth::current_user().ok_or(crate::error::AppError::Unauthenticated)?;
        let shop = crate::state::from_context::<ssr::Shop>()?;
        let session = ssr::SessionCart::of_request().await?;
        let payment = shop.pay_cart(&user, &session, &cart_version).await?;
        Ok(PayCartAnswer {
            order_id: payment.order_id.get(),
            client_secret: payment.client_secret,
            publishable_key: payment.publishable_key,
        })
    })
    .await
}

/// The error signal of a cart form, whose server function answers the cart's count on success.
pub(crate) fn error_of<S>(action: ServerAction<S>) -> Signal<Option<Result<(), ServerFnError>>>
where
    S: leptos::server_fn::ServerFn<Output = u32, Error = ServerFnError>
        + Clone
        + Send
        + Sync
        + 'static,
{
    Signal::derive(move || action.value().get().map(|result| result.map(|_| ())))
}
