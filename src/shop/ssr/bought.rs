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

/// A request coming back from paying: the order in its path, the id Stripe sent the buyer back
/// with, and who is asking (for the Stripe budget).
struct Return {
    order_id: OrderId,
    returned: String,
    user_id: Option<crate::domain::UserId>,
    address: Option<std::net::IpAddr>,
}

/// `GET /shop/orders/{id}?session_id=…` (hosted Checkout) or `?payment_intent=…` (our page).
fn return_of(request: &Request) -> Option<Return> {
    if request.method() != axum::http::Method::GET {
        return None;
    }
    let order_id = request
        .uri()
        .path()
        .strip_prefix("/shop/orders/")
        .and_then(OrderId::parse)?;
    let returned = url::form_urlencoded::parse(request.uri().query()?.as_bytes())
        .find(|(name, _)| name == "session_id" || name == "payment_intent")
        .map(|(_, value)| value.into_owned())?;
    Some(Return {
        order_id,
        returned,
        user_id: request
            .extensions()
            .get::<crate::auth::User>()
            .map(|u| u.id),
        address: request
            .extensions()
            .get::<crate::request::ClientIp>()
            .map(|ip| ip.0),
    })
}

impl Shop {
    /// Back from paying (issue 22): the order made from this session's cart, if still pending, is
    /// synced before the header's count is read, so the page that says "paid" shows an empty cart.
    /// Only that order, only with the id Stripe sent the buyer back with, within the buyer's
    /// Stripe budget.
    async fn follow_return(&self, session: &SessionCart, back: Return) -> AppResult<()> {
        let cart = session.load().await?;
        let pending = sqlx::query_scalar::<_, i64>(
            "SELECT 1 FROM orders WHERE id = $1 AND cart_id = $2 AND status = 'pending' \
             AND (checkout_session_id = $3 OR payment_intent_id = $3)",
        )
        .bind(back.order_id)
        .bind(cart.id())
        .bind(&back.returned)
        .fetch_optional(&self.db.pool)
        .await?;
        if pending.is_none() {
            return Ok(());
        }
        match (back.user_id, back.address) {
            (Some(user_id), _) => self.budget.check(user_id)?,
            (None, Some(address)) => self.budget.check_address(address)?,
            (None, None) => return Ok(()),
        }
        self.sync_order(back.order_id, None).await?;
        Ok(())
    }
}

/// Middleware behind the session layer: follows a return from paying (`follow_return`), empties a
/// bought cart, and puts the cart's item count in the request for the page header. A visitor
/// without a session cookie has no cart, and the session layer loads nothing for them; an empty
/// cart costs no query.
pub async fn load_cart_count(
    State(shop): State<Shop>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let session = SessionCart::new(session);
    if let Some(back) = return_of(&request)
        && let Err(error) = shop.follow_return(&session, back).await
    {
        // The order page syncs again, and says what went wrong.
        tracing::info!(%error, "return from paying not followed before the page");
    }
    let count = match shop.current_cart(&session).await {
        Ok(cart) => cart.count(),
        Err(error) => {
            tracing::warn!(%error, "could not read the cart");
            0
        }
    };
    request.extensions_mut().insert(CartCount(count));
    next.run(request).await
}
