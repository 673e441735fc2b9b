//! The cart: kept in the visitor's session (so it works signed out, survives reloads and follows the
//! visitor into sign-in, which keeps the session's data under a new id), and checked against the
//! catalog and the stock on every change. A cart has an identity from its first item on: every order
//! records it, and once one of them is paid the cart is bought (`Shop::consume_if_paid`).

use super::stock::available;
use crate::catalog::{Catalog, Good};
use crate::db::Database;
use crate::domain::{MAX_CART_LINES, MAX_LINE_QUANTITY, OrderId, PriceId, Quantity};
use crate::error::{AppError, AppResult};
use crate::shop::{BAD_QUANTITY, CART_FULL, NOT_ON_SALE, SOLD_OUT, TOO_MANY};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

const CART_KEY: &str = "cart";
/// The order a bought cart became, kept after the cart is emptied so the cart page can say so.
const PAID_ORDER_KEY: &str = "paid_cart_order";

/// The cart as stored: its identity, price ids and quantities, nothing that could go stale (names
/// and amounts come from the catalog when it is shown or bought).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    /// Random, given with the first item (carts stored before it had none: they get one then).
    #[serde(default)]
    id: Option<String>,
    lines: Vec<CartLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub price_id: PriceId,
    pub quantity: u32,
}

/// The number of items in the visitor's cart, put into each page request by `load_cart_count` for
/// the header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CartCount(pub u32);

impl Cart {
    pub fn lines(&self) -> &[CartLine] {
        &self.lines
    }

    pub fn count(&self) -> u32 {
        self.lines.iter().map(|l| l.quantity).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The cart's identity, which its orders record (None only for an empty cart).
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    fn quantity_of(&self, price_id: &PriceId) -> u32 {
        self.lines
            .iter()
            .find(|l| &l.price_id == price_id)
            .map_or(0, |l| l.quantity)
    }

    /// Names the cart's contents, so a second checkout of the same cart can reuse the first.
    pub fn key(&self) -> String {
        let mut lines: Vec<String> = self
            .lines
            .iter()
            .map(|l| format!("{}x{}", l.price_id, l.quantity))
            .collect();
        lines.sort();
        lines.join(",")
    }

    /// Sets the quantity of a line (0 removes it), keeping the order lines were added in. A cart
    /// with items has an id; an emptied one loses it, so what is put in next is a new cart.
    fn set(&mut self, price_id: &PriceId, quantity: u32) {
        match self.lines.iter().position(|l| &l.price_id == price_id) {
            Some(i) if quantity == 0 => {
                self.lines.remove(i);
            }
            Some(i) => self.lines[i].quantity = quantity,
            None if quantity > 0 => self.lines.push(CartLine {
                price_id: price_id.clone(),
                quantity,
            }),
            None => {}
        }
        if self.lines.is_empty() {
            self.id = None;
        } else if self.id.is_none() {
            self.id = Some(uuid::Uuid::new_v4().simple().to_string());
        }
    }

    /// Adds `quantity` of the good sold at `price_id`, within the bounds and the stock.
    pub async fn add(
        &mut self,
        db: &Database,
        catalog: &Catalog,
        price_id: &str,
        quantity: &str,
    ) -> AppResult<()> {
        let good = good_on_sale(catalog, price_id)?;
        let quantity = parse_quantity(quantity)?;
        let wanted = self.quantity_of(&good.price_id) + quantity.get();
        if self.quantity_of(&good.price_id) == 0 && self.lines.len() >= MAX_CART_LINES {
            return Err(AppError::Invalid(CART_FULL.into()));
        }
        self.set_checked(db, good, wanted).await
    }

    /// Sets the quantity of a line; 0 removes it (also for an item no longer on sale).
    pub async fn update(
        &mut self,
        db: &Database,
        catalog: &Catalog,
        price_id: &str,
        quantity: &str,
    ) -> AppResult<()> {
        if quantity.trim() == "0" {
            let price_id = PriceId::parse(price_id.trim()).ok_or_else(not_on_sale)?;
            self.set(&price_id, 0);
            return Ok(());
        }
        let good = good_on_sale(catalog, price_id)?;
        let quantity = parse_quantity(quantity)?;
        self.set_checked(db, good, quantity.get()).await
    }

    async fn set_checked(&mut self, db: &Database, good: &Good, wanted: u32) -> AppResult<()> {
        if wanted > MAX_LINE_QUANTITY {
            return Err(AppError::Invalid(TOO_MANY.into()));
        }
        let left = available(db, &good.price_id).await?;
        if i64::from(wanted) > left {
            return Err(only_left(left));
        }
        self.set(&good.price_id, wanted);
        Ok(())
    }
}

fn not_on_sale() -> AppError {
    AppError::Invalid(NOT_ON_SALE.into())
}

/// "Sorry, only N left." (or sold out): the numbers are the only part that varies, so a form
/// without JavaScript can show it from its URL (see `components::form_error_text`).
pub fn only_left(left: i64) -> AppError {
    if left <= 0 {
        AppError::Conflict(SOLD_OUT.into())
    } else {
        AppError::Conflict(format!("Sorry, only {left} left."))
    }
}

fn good_on_sale<'a>(catalog: &'a Catalog, price_id: &str) -> AppResult<&'a Good> {
    PriceId::parse(price_id.trim())
        .and_then(|id| catalog.good_by_price(&id))
        .ok_or_else(not_on_sale)
}

fn parse_quantity(raw: &str) -> AppResult<Quantity> {
    // An absent quantity (a plain "Add to cart" button) means one.
    let raw = if raw.trim().is_empty() { "1" } else { raw };
    Quantity::parse(raw).ok_or_else(|| AppError::Invalid(BAD_QUANTITY.into()))
}

/// What a cart form asks for (the raw form values; `Cart` checks them).
pub enum CartChange {
    Add { price_id: String, quantity: String },
    Update { price_id: String, quantity: String },
    Clear,
}

/// The cart in the request's session.
pub struct SessionCart(Session);

impl SessionCart {
    pub fn new(session: Session) -> Self {
        Self(session)
    }

    pub(super) fn session(&self) -> &Session {
        &self.0
    }

    /// The session of the request a server function is handling.
    pub async fn of_request() -> AppResult<Self> {
        crate::auth::ssr::request_session().await.map(Self)
    }

    /// A stored cart that no longer reads (an older shape) counts as empty rather than failing pages.
    pub async fn load(&self) -> AppResult<Cart> {
        match self.0.get::<Cart>(CART_KEY).await {
            Ok(cart) => Ok(cart.unwrap_or_default()),
            Err(tower_sessions::session::Error::SerdeJson(error)) => {
                tracing::warn!(%error, "stored cart unreadable; starting an empty one");
                Ok(Cart::default())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Saves the cart; an empty cart is removed, so a visitor who only browsed keeps no session. A
    /// cart with items ends the notice of a bought one; a visitor's first one makes a session, which
    /// each client may do only so often.
    pub async fn save(&self, cart: &Cart) -> AppResult<()> {
        if cart.is_empty() {
            self.0.remove_value(CART_KEY).await?;
        } else {
            crate::auth::ssr::check_new_session(&self.0).await?;
            self.0.insert(CART_KEY, cart).await?;
            if self.paid_order().await.is_some() {
                self.0.remove_value(PAID_ORDER_KEY).await?;
            }
        }
        Ok(())
    }

    /// Empties the cart because it was bought as `order_id` (which the cart page then names).
    pub async fn mark_bought(&self, order_id: OrderId) -> AppResult<()> {
        self.0.remove_value(CART_KEY).await?;
        self.0.insert(PAID_ORDER_KEY, order_id.get()).await?;
        Ok(())
    }

    /// The order the last cart became, if it was bought and nothing was put in the cart since.
    pub async fn paid_order(&self) -> Option<OrderId> {
        let id = self.0.get::<i64>(PAID_ORDER_KEY).await.ok().flatten()?;
        Some(OrderId::new(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_their_order_and_zero_removes() {
        let (a, b) = (PriceId::from("price_a"), PriceId::from("price_b"));
        let mut cart = Cart::default();
        cart.set(&a, 2);
        cart.set(&b, 1);
        cart.set(&a, 3);
        assert_eq!(cart.count(), 4);
        assert_eq!(cart.lines()[0].price_id, a);
        assert_eq!(cart.key(), "price_ax3,price_bx1");
        let id = cart.id().map(str::to_owned);
        assert!(
            id.as_ref().is_some_and(|id| id.len() == 32),
            "an id with the first item"
        );
        cart.set(&a, 0);
        assert_eq!(cart.lines().len(), 1);
        assert_eq!(cart.id().map(str::to_owned), id, "kept while it has items");
        cart.set(&b, 0);
        assert!(cart.is_empty());
        assert_eq!(cart.id(), None, "an emptied cart is no cart");
        cart.set(&a, 1);
        assert!(
            cart.id().is_some() && cart.id().map(str::to_owned) != id,
            "a new cart"
        );
    }

    #[test]
    fn refusals_say_how_many_are_left() {
        assert_eq!(only_left(0).to_string(), SOLD_OUT);
        assert_eq!(only_left(2).to_string(), "Sorry, only 2 left.");
        assert!(parse_quantity("").is_ok_and(|q| q.get() == 1));
        assert!(parse_quantity("11").is_err());
    }
}
