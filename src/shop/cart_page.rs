//! `/cart`: the lines with their quantities (changed or removed with plain forms), the total,
//! "Check out" (Stripe's hosted page; a signed-out visitor checks out as a guest or signs in
//! first), and the link to paying on our own page (`/shop/pay`, for account holders).

use super::{
    CartClear, CartLineView, CartUpdate, CartView, CheckoutCart, SHOP_FORM_MESSAGES, error_of,
};
use crate::components::FormError;
use crate::components::PageMeta;
use crate::domain::{MAX_LINE_QUANTITY, OrderId};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[cfg(feature = "ssr")]
pub(super) async fn load_cart() -> CartView {
    let loaded = async {
        let shop = crate::state::from_context::<super::ssr::Shop>()?;
        let session = super::ssr::SessionCart::of_request().await?;
        let cart = shop.current_cart(&session).await?;
        let mut view = shop.cart_view(&cart).await?;
        view.bought = session.paid_order().await;
        Ok::<_, crate::error::AppError>(view)
    };
    loaded.await.unwrap_or_else(|error| {
        tracing::error!(%error, "cart query failed");
        CartView::default()
    })
}

#[cfg(not(feature = "ssr"))]
pub(super) async fn load_cart() -> CartView {
    CartView::default()
}

#[component]
pub fn CartPage() -> impl IntoView {
    let update = ServerAction::<CartUpdate>::new();
    let checkout = ServerAction::<CheckoutCart>::new();
    let body = Suspend::new(async move {
        let cart = load_cart().await;
        if cart.lines.is_empty() {
            return view! { <EmptyCart bought=cart.bought /> }.into_any();
        }
        let total = cart.total.as_ref().map(|t| t.format()).unwrap_or_default();
        let signed_in = crate::auth::current_user().is_some();
        let lines = cart
            .lines
            .into_iter()
            .map(|line| view! { <CartLine line /> })
            .collect_view();
        view! {
            <table class="cart" data-testid="cart">
                <thead><tr><th>"Item"</th><th>"Price"</th><th>"Quantity"</th><th>"Total"</th></tr></thead>
                <tbody>{lines}</tbody>
                <tfoot><tr><th colspan="3">"Total"</th><td data-testid="cart-total">{total}</td></tr></tfoot>
            </table>
            <div class="cart-actions">
                <form method="post" action={<CartClear as ServerFn>::PATH}>
                    <button type="submit" class="button">"Empty cart"</button>
                </form>
                <form method="post" action={<CheckoutCart as ServerFn>::PATH}>
                    <button type="submit" class="button primary" data-testid="checkout">
                        {if signed_in { "Check out" } else { "Check out as a guest" }}
                    </button>
                </form>
                {if signed_in {
                    view! { <a href="/shop/pay" class="button" data-testid="pay-on-page">"Pay by card on this site"</a> }.into_any()
                } else {
                    view! { <a href="/login?next=/cart" class="button" data-testid="sign-in-to-buy">"Sign in to check out"</a> }.into_any()
                }}
            </div>
            <p class="muted">"Shipping and tax are worked out at checkout, where you can also enter a promotion code."</p>
        }
        .into_any()
    });
    view! {
        <PageMeta title="Your cart" description="The goods in your cart, ready to check out." />
        <section class="shop">
            <h1>"Your cart"</h1>
            <FormError value=error_of(update) messages=SHOP_FORM_MESSAGES />
            <FormError value=checkout.value() messages=SHOP_FORM_MESSAGES />
            <Suspense fallback=|| ()>{body}</Suspense>
        </section>
    }
}

/// What the cart and pay pages show for an empty cart; after a purchase, which order it became.
#[component]
pub(super) fn EmptyCart(bought: Option<OrderId>) -> impl IntoView {
    view! {
        {bought.map(|order_id| view! {
            <p class="notice success" role="status" data-testid="cart-bought">
                "Your cart was paid: "
                <a href=format!("/shop/orders/{order_id}")>{format!("order #{order_id}")}</a>
                "."
            </p>
        })}
        <p class="lead" data-testid="cart-empty">"Your cart is empty."</p>
        <p><a href="/shop" class="button primary">"Browse the shop"</a></p>
    }
}

#[component]
fn CartLine(line: CartLineView) -> impl IntoView {
    let most = u32::try_from(line.available.clamp(
        i64::from(line.quantity).max(1),
        i64::from(MAX_LINE_QUANTITY),
    ))
    .unwrap_or(MAX_LINE_QUANTITY);
    let short = line.unit.is_some() && i64::from(line.quantity) > line.available;
    let name = match &line.slug {
        Some(slug) => view! { <a href=format!("/shop/{slug}")>{line.name.clone()}</a> }.into_any(),
        None => view! { <span class="muted">{line.name.clone()}</span> }.into_any(),
    };
    let options = (1..=most)
        .map(|n| view! { <option value=n.to_string() selected=n == line.quantity>{n.to_string()}</option> })
        .collect_view();
    view! {
        <tr data-testid="cart-line" data-price=line.price_id.clone()>
            <td>
                {name}
                {short.then(|| view! { <p class="notice warn">{format!("Only {} left.", line.available)}</p> })}
            </td>
            <td>{line.unit.as_ref().map(|m| m.format())}</td>
            <td>
                <form method="post" action={<CartUpdate as ServerFn>::PATH} class="inline">
                    <input type="hidden" name="price_id" value=line.price_id.clone() />
                    {line.unit.is_some().then(|| view! {
                        <select name="quantity" aria-label="Quantity">{options}</select>
                        <button type="submit" class="button small">"Update"</button>
                    })}
                </form>
                <form method="post" action={<CartUpdate as ServerFn>::PATH} class="inline">
                    <input type="hidden" name="price_id" value=line.price_id.clone() />
                    <input type="hidden" name="quantity" value="0" />
                    <button type="submit" class="button small" data-testid="remove">"Remove"</button>
                </form>
            </td>
            <td>{line.line_total.as_ref().map(|m| m.format())}</td>
        </tr>
    }
    .into_any()
}
