//! A cart is bought once (security review 2, M2, L5, L9). Every order records the cart it was made
//! from (`orders.cart_id`); once any of them is paid, by whatever path (the webhook, the order page,
//! the sweep, another instance), the cart is bought: paying it again is refused, and the buyer's next
//! request empties it and remembers which order it became, for the cart page to name.

use super::Shop;
use super::cart::{Cart, CartCount, SessionCart};
use crate::domain::OrderId;
use crate::error::{AppError, AppResult};
use crate::shop::CART_ALREADY_PAID;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tower_sessions::Session;

impl Shop {
    /// The paid order made from `cart`, if there is one.
    pub async fn paid_order_of(&self, cart: &Cart) -> AppResult<Option<OrderId>> {
        let Some(cart_id) = cart.id() else {
            return Ok(None);
        };
        // The statuses an order reaches only by being paid (`OrderStatus::was_paid`).
        Ok(sqlx::query_scalar::<_, OrderId>(
            "SELECT id FROM orders WHERE cart_id = $1 \
             AND status IN ('paid', 'partially_refunded', 'refunded') ORDER BY id LIMIT 1",
        )
        .bind(cart_id)
        .fetch_optional(&self.db.pool)
        .await?)
    }

    /// The session's cart as it stands: a bought one is emptied (its order remembered) and comes
    /// back empty.
    pub async fn current_cart(&self, session: &SessionCart) -> AppResult<Cart> {
        let cart = session.load().await?;
        match self.paid_order_of(&cart).await? {
            Some(order_id) => {
                session.mark_bought(order_id).await?;
                tracing::info!(%order_id, "cart bought: emptied");
                Ok(Cart::default())
            }
            None => Ok(cart),
        }
    }

    /// The cart to start paying, refused when it was bought already (before its next request, or
    /// just now on the way here).
    pub(super) async fn cart_to_pay(&self, session: &SessionCart) -> AppResult<Cart> {
        let cart = self.current_cart(session).await?;
        if cart.is_empty() && session.paid_order().await.is_some() {
            return Err(AppError::Conflict(CART_ALREADY_PAID.into()));
        }
        Ok(cart)
    }
}

/// Middleware behind the session layer: empties a bought cart, and puts the cart's item count in
/// the request for the page header. A visitor without a session cookie has no cart, and the session
/// layer loads nothing for them; an empty cart costs no query.
pub async fn load_cart_count(
    State(shop): State<Shop>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let count = match shop.current_cart(&SessionCart::new(session)).await {
        Ok(cart) => cart.count(),
        Err(error) => {
            tracing::warn!(%error, "could not read the cart");
            0
        }
    };
    request.extensions_mut().insert(CartCount(count));
    next.run(request).await
}
