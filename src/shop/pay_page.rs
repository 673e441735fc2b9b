//! `/shop/pay`: paying for the cart on our own page. The server renders the order summary and the
//! total; the `CardPaymentForm` island loads Stripe.js, mounts Stripe's card field and confirms the
//! PaymentIntent `/api/pay_cart` creates. Without JavaScript (or without a publishable key) the
//! page offers Stripe's hosted Checkout, which is always there as the other way to pay.

use super::card_payment::CardPaymentForm;
use super::cart_page::{EmptyCart, load_cart};
use super::{CartView, CheckoutCart, SHOP_FORM_MESSAGES};
use crate::auth::require_user;
use crate::components::FormError;
use crate::components::PageMeta;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// What the island needs from the server, put on its wrapper as data attributes (island props
/// would bring serde_json into the bundle; docs/ARCHITECTURE.md, "Islands").
#[derive(Debug, Clone, Default)]
struct PaySetup {
    publishable_key: Option<String>,
    stripe_js_url: String,
}

/// The publishable key and Stripe.js's URL; on `/shop/pay` the CSP also admits Stripe.js.
#[cfg(feature = "ssr")]
fn pay_setup() -> PaySetup {
    let Ok(shop) = crate::state::from_context::<super::ssr::Shop>() else {
        return PaySetup::default();
    };
    let setup = PaySetup {
        publishable_key: shop.publishable_key().map(str::to_owned),
        stripe_js_url: shop.stripe_js_url().to_owned(),
    };
    if setup.publishable_key.is_some() {
        crate::csp::set_content_security_policy(Some(&shop.stripe_js_sources()));
    }
    setup
}

#[cfg(not(feature = "ssr"))]
fn pay_setup() -> PaySetup {
    PaySetup::default()
}

#[component]
pub fn PayPage() -> impl IntoView {
    let checkout = ServerAction::<CheckoutCart>::new();
    if require_user("/shop/pay").is_none() {
        return view! { <p>"Please sign in."</p> }.into_any();
    }
    let body = Suspend::new(async move {
        let cart = load_cart().await;
        if cart.lines.is_empty() {
            return view! { <EmptyCart bought=cart.bought /> }.into_any();
        }
        let setup = pay_setup();
        let version = cart.version.clone();
        view! {
            <Summary cart />
            {match setup.publishable_key {
                Some(key) => view! {
                    <div id="card-payment" data-publishable-key=key data-stripe-js=setup.stripe_js_url
                        data-cart-version=version>
                        <CardPaymentForm />
                    </div>
                }
                .into_any(),
                None => view! { <p class="notice warn">{super::PAY_ON_PAGE_OFF}</p> }.into_any(),
            }}
            <form method="post" action={<CheckoutCart as ServerFn>::PATH} class="pay-elsewhere">
                <button type="submit" class="button" data-testid="checkout">"Pay on Stripe's checkout page"</button>
            </form>
        }
        .into_any()
    });
    view! {
        <PageMeta title="Pay for your order" description="Pay for your order by card on this site." />
        <section class="shop">
            <h1>"Pay for your order"</h1>
            <FormError value=checkout.value() messages=SHOP_FORM_MESSAGES />
            <Suspense fallback=|| ()>{body}</Suspense>
            <p><a href="/cart">"Back to your cart"</a></p>
        </section>
    }
    .into_any()
}

/// The order as it will be charged: names and amounts from our catalog.
#[component]
fn Summary(cart: CartView) -> impl IntoView {
    let total = cart.total.as_ref().map(|t| t.format()).unwrap_or_default();
    let lines = cart
        .lines
        .into_iter()
        .map(|line| {
            view! {
                <tr>
                    <td>{line.name}</td>
                    <td>{line.quantity}</td>
                    <td>{line.line_total.as_ref().map(|m| m.format())}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="cart" data-testid="pay-summary">
            <thead><tr><th>"Item"</th><th>"Quantity"</th><th>"Total"</th></tr></thead>
            <tbody>{lines}</tbody>
            <tfoot><tr><th colspan="2">"Total"</th><td data-testid="pay-total">{total}</td></tr></tfoot>
        </table>
    }
}
