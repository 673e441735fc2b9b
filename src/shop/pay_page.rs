//! `/shop/pay`: paying for the cart on our own page. The server renders the order summary and the
//! total; the `CardPaymentForm` island loads Stripe.js, mounts Stripe's card field and confirms the
//! PaymentIntent `/api/pay_cart` creates. Without JavaScript (or without a publishable key) the
//! page offers Stripe's hosted Checkout, which is always there as the other way to pay.

use super::card_payment::CardPaymentForm;
use super::cart_page::{EmptyCart, load_cart};
use super::{CheckoutCart, PayDetails, SHOP_FORM_MESSAGES};
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

/// `/shop/pay`'s data, as plain text for the view (the server prices, the page only shows).
#[derive(Debug, Clone, Default)]
struct PayView {
    lines: Vec<(String, u32, String)>,
    /// Label, amount, test id: subtotal, discount, shipping, tax.
    charges: Vec<(String, String, &'static str)>,
    total: String,
    version: String,
    /// Why the card form is not offered yet.
    missing: Option<&'static str>,
    code_refused: Option<&'static str>,
    asks_address: bool,
    details: PayFields,
    countries: Vec<String>,
    /// Name and amount shown.
    rates: Vec<(String, String)>,
    chosen_rate: String,
}

/// The pay page's form fields, as entered.
#[derive(Debug, Clone, Default)]
struct PayFields {
    name: String,
    line1: String,
    line2: String,
    city: String,
    postal_code: String,
    country: String,
    code: String,
}

#[cfg(feature = "ssr")]
async fn load_pay_view() -> Result<Option<PayView>, crate::error::AppError> {
    use crate::domain::Money;
    let user = crate::auth::current_user().ok_or(crate::error::AppError::Unauthenticated)?;
    let shop = crate::state::from_context::<super::ssr::Shop>()?;
    let session = super::ssr::SessionCart::of_request().await?;
    let Some(page) = shop.pay_page(user.id, &session).await? else {
        return Ok(None);
    };
    let (q, d) = (&page.quote, &page.details);
    let money = |amount: i64| Money::new(amount, q.currency.clone()).format();
    let mut charges = vec![("Subtotal".to_owned(), money(q.subtotal), "pay-subtotal")];
    if q.discount > 0 {
        let code = q.promotion_code.clone().unwrap_or_default();
        charges.push((
            format!("Discount ({code})"),
            format!("-{}", money(q.discount)),
            "pay-discount",
        ));
    }
    if q.ships {
        let rate = q
            .rate
            .as_ref()
            .map(|(name, _)| name.clone())
            .unwrap_or_default();
        let amount = if q.shipping == 0 {
            "Free".to_owned()
        } else {
            money(q.shipping)
        };
        charges.push((format!("Shipping ({rate})"), amount, "pay-shipping"));
    }
    if q.tax > 0 || q.tax_calculation.is_some() {
        charges.push(("Tax".to_owned(), money(q.tax), "pay-tax"));
    }
    Ok(Some(PayView {
        lines: page
            .cart
            .lines
            .into_iter()
            .map(|l| {
                (
                    l.name,
                    l.quantity,
                    l.line_total.map(|m| m.format()).unwrap_or_default(),
                )
            })
            .collect(),
        charges,
        total: money(q.total),
        version: page.version.clone(),
        missing: q.missing,
        code_refused: q.code_refused,
        asks_address: q.ships || shop.automatic_tax(),
        details: PayFields {
            name: d.name.clone(),
            line1: d.line1.clone(),
            line2: d.line2.clone(),
            city: d.city.clone(),
            postal_code: d.postal_code.clone(),
            country: d.country.clone(),
            code: d.code.clone(),
        },
        countries: shop.ship_to(),
        rates: q
            .offered
            .iter()
            .map(|(name, amount)| (name.clone(), money(*amount)))
            .collect(),
        chosen_rate: q
            .rate
            .as_ref()
            .map(|(name, _)| name.clone())
            .unwrap_or_default(),
    }))
}

/// In the browser the page is never rendered (it is not an island).
#[cfg(not(feature = "ssr"))]
async fn load_pay_view() -> Result<Option<PayView>, String> {
    Ok(None)
}

#[cfg(feature = "ssr")]
fn public_message(error: crate::error::AppError) -> String {
    error.public_message()
}

#[cfg(not(feature = "ssr"))]
fn public_message(error: String) -> String {
    error
}

#[component]
pub fn PayPage() -> impl IntoView {
    let checkout = ServerAction::<CheckoutCart>::new();
    let details = ServerAction::<PayDetails>::new();
    if require_user("/shop/pay").is_none() {
        return view! { <p>"Please sign in."</p> }.into_any();
    }
    let body = Suspend::new(async move {
        let pay = match load_pay_view().await {
            Ok(Some(pay)) => pay,
            Ok(None) => {
                let cart = load_cart().await;
                return view! { <EmptyCart bought=cart.bought /> }.into_any();
            }
            Err(error) => {
                return view! { <p class="notice error" role="alert">{public_message(error)}</p> }
                    .into_any();
            }
        };
        let setup = pay_setup();
        let version = pay.version.clone();
        let card = match (pay.missing, setup.publishable_key) {
            (Some(missing), _) => view! {
                <p class="notice warn" data-testid="pay-address-needed">{missing}</p>
            }
            .into_any(),
            (None, Some(key)) => view! {
                <div id="card-payment" data-publishable-key=key data-stripe-js=setup.stripe_js_url
                    data-cart-version=version>
                    <CardPaymentForm />
                </div>
            }
            .into_any(),
            (None, None) => {
                view! { <p class="notice warn">{super::PAY_ON_PAGE_OFF}</p> }.into_any()
            }
        };
        view! {
            <Summary pay=pay.clone() />
            <DetailsForm pay />
            {card}
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
            <FormError value=details.value() messages=SHOP_FORM_MESSAGES />
            <Suspense fallback=|| ()>{body}</Suspense>
            <p><a href="/cart">"Back to your cart"</a></p>
        </section>
    }
    .into_any()
}

/// The order as it will be charged: names and amounts from our catalog, shipping, the code's
/// discount and Stripe Tax's tax.
#[component]
fn Summary(pay: PayView) -> impl IntoView {
    let lines = pay
        .lines
        .into_iter()
        .map(|(name, quantity, total)| view! { <tr><td>{name}</td><td>{quantity}</td><td>{total}</td></tr> })
        .collect_view();
    let charges = pay
        .charges
        .into_iter()
        .map(|(label, amount, id)| view! { <tr><th colspan="2">{label}</th><td data-testid=id>{amount}</td></tr> })
        .collect_view();
    view! {
        <table class="cart" data-testid="pay-summary">
            <thead><tr><th>"Item"</th><th>"Quantity"</th><th>"Total"</th></tr></thead>
            <tbody>{lines}</tbody>
            <tfoot>{charges}<tr><th colspan="2">"Total"</th><td data-testid="pay-total">{pay.total}</td></tr></tfoot>
        </table>
    }
}

/// Where to send the order, the rate and a promotion code: a plain form that prices the cart again.
#[component]
fn DetailsForm(pay: PayView) -> impl IntoView {
    let f = pay.details.clone();
    let field = |name: &'static str,
                 label: &'static str,
                 value: String,
                 autocomplete: &'static str,
                 required: bool| {
        let id = format!("pay-{name}");
        view! {
            <div class="field">
                <label for=id.clone()>{label}</label>
                <input type="text" id=id name=name value=value autocomplete=autocomplete required=required />
            </div>
        }
    };
    let address = pay.asks_address.then(|| {
        let countries = pay
            .countries
            .iter()
            .map(|c| view! { <option value=c.clone() selected=*c == f.country>{c.clone()}</option> })
            .collect_view();
        view! {
            <fieldset class="stack">
                <legend>"Where to send it"</legend>
                {field("name", "Full name", f.name.clone(), "shipping name", true)}
                {field("line1", "Address", f.line1.clone(), "shipping address-line1", true)}
                {field("line2", "Apartment, suite (optional)", f.line2.clone(), "shipping address-line2", false)}
                {field("city", "City", f.city.clone(), "shipping address-level2", true)}
                {field("postal_code", "Postal code", f.postal_code.clone(), "shipping postal-code", true)}
                <div class="field">
                    <label for="pay-country">"Country"</label>
                    <select id="pay-country" name="country" autocomplete="shipping country">{countries}</select>
                </div>
            </fieldset>
        }
    });
    let rates = (!pay.rates.is_empty()).then(|| {
        let choices = pay
            .rates
            .iter()
            .map(|(name, amount)| {
                view! {
                    <label class="option">
                        <input type="radio" name="rate" value=name.clone() checked=*name == pay.chosen_rate />
                        {format!("{name} · {amount}")}
                    </label>
                }
            })
            .collect_view();
        view! { <fieldset class="options"><legend>"Shipping"</legend>{choices}</fieldset> }
    });
    let refused = pay.code_refused.map(|message| {
        view! { <p class="field-error" id="pay-code-error" role="alert" data-testid="code-refused">{message}</p> }
    });
    view! {
        <form method="post" action={<PayDetails as ServerFn>::PATH} class="stack pay-details" data-testid="pay-details">
            {address}
            {rates}
            <div class="field" class:invalid=pay.code_refused.is_some()>
                <label for="pay-code">"Promotion code"</label>
                <input type="text" id="pay-code" name="code" value=f.code.clone() autocomplete="off"
                    aria-describedby=pay.code_refused.map(|_| "pay-code-error") />
                {refused}
            </div>
            <button type="submit" class="button">"Update the total"</button>
        </form>
    }
}
