//! The HTML shell, the page layout and the route table: the top of the UI, importing the features.

use crate::account::{AccountDeletedPage, AccountPage, VerifyEmailPage};
use crate::auth::{
    CheckEmailPage, ForgotPasswordPage, LoginPage, LogoutButton, ResetPasswordPage, SignupPage,
    current_user,
};
use crate::billing::{PricingPage, SuccessPage};
use crate::components::{HydrationMarker, NotFound};
use crate::dashboard::{DashboardPage, ProPage};
use crate::shop::{CartCount, CartPage, GoodPage, OrderPage, PayPage, ShopPage};
use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// Pages the page cache (`server::page_cache`) serves to visitors without a session, by the exact
/// path-and-query a browser asks for (any other query renders as usual). Listed beside the route
/// table because whether a page may be cached is a property of the page: it must render from the
/// catalog snapshot alone. A test checks that each is a route of the table below.
/// A good's page, `/shop/{slug}`, is kept too for every good of the catalog (the shop's pages render
/// from the snapshot and the stock, whose changes the stock epoch announces).
pub const CACHED_FOR_ANONYMOUS: &[&str] = &[
    "/",
    "/pricing",
    "/pricing?interval=month",
    "/pricing?interval=year",
    "/login",
    "/signup",
    "/shop",
    "/cart",
];
/// Pages kept per signed-in user: they render from the snapshot, the stock and the user's own rows,
/// whose changes the user cache announces (a page with a cart is never kept; see the page cache).
pub const CACHED_PER_USER: &[&str] = &["/dashboard", "/pricing", "/pro", "/shop", "/cart"];
/// The fixed routes under `/shop/` (a good whose slug were one of them would not be its page).
pub const SHOP_ROUTES: &[&str] = &["pay", "orders"];

/// The stylesheet's path, named by its hash in a release build (server/assets.rs).
#[derive(Debug, Clone)]
pub struct StylesheetHref(pub std::sync::Arc<str>);

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::csp::set_content_security_policy(None);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let stylesheet = use_context::<StylesheetHref>().map_or_else(
        || "/pkg/storefront.css".to_owned(),
        |href| href.0.to_string(),
    );
    view! {
        <Stylesheet id="leptos" href=stylesheet />
        <Title text="Storefront" />
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=PricingPage />
                    <Route path=path!("/pricing") view=PricingPage />
                    <Route path=path!("/login") view=LoginPage />
                    <Route path=path!("/signup") view=SignupPage />
                    <Route path=path!("/signup/check-email") view=CheckEmailPage />
                    <Route path=path!("/forgot-password") view=ForgotPasswordPage />
                    <Route path=path!("/reset-password") view=ResetPasswordPage ssr=SsrMode::Async />
                    <Route path=path!("/verify-email") view=VerifyEmailPage ssr=SsrMode::Async />
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                    <Route path=path!("/account/deleted") view=AccountDeletedPage />
                    // Async: these pages wait for their data before the status line is sent.
                    <Route path=path!("/dashboard") view=DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/billing/success") view=SuccessPage ssr=SsrMode::Async />
                    <Route path=path!("/pro") view=ProPage ssr=SsrMode::Async />
                    <Route path=path!("/shop") view=ShopPage ssr=SsrMode::Async />
                    <Route path=path!("/shop/orders/:id") view=OrderPage ssr=SsrMode::Async />
                    <Route path=path!("/shop/pay") view=PayPage ssr=SsrMode::Async />
                    <Route path=path!("/shop/:slug") view=GoodPage ssr=SsrMode::Async />
                    <Route path=path!("/cart") view=CartPage ssr=SsrMode::Async />
                </Routes>
            </Layout>
        </Router>
    }
}

/// Header with the account links, the page, and the footer.
#[component]
fn Layout(children: Children) -> impl IntoView {
    let account = match current_user() {
        Some(user) => view! {
            <a href="/account" class="nav-account" title="Your account">{user.email.to_string()}</a>
            <LogoutButton />
        }
        .into_any(),
        None => view! {
            <a href="/login">"Sign in"</a>
            <a href="/signup" class="button small">"Sign up"</a>
        }
        .into_any(),
    };
    view! {
        <header
            class="site-header"
            id="site-header"
            data-cart-count=crate::shop::current_cart_count().to_string()
        >
            <a href="/" class="brand">"Storefront"</a>
            <CartCount />
            // On a phone the links fold behind "Menu": a checkbox and its label open them, so the
            // menu works without JavaScript (style/main.css).
            <input type="checkbox" id="nav-toggle" class="nav-toggle" aria-label="Show the menu" />
            <label for="nav-toggle" class="nav-toggle-label" aria-hidden="true">"Menu"</label>
            <nav class="site-nav" aria-label="Main">
                <a href="/pricing">"Pricing"</a>
                <a href="/shop">"Shop"</a>
                {account}
            </nav>
        </header>
        <main class="site-main">{children()}</main>
        <footer class="site-footer">
            <span>"© Storefront"</span>
            <a href="/pricing">"Plans"</a>
            <a href="/shop">"Shop"</a>
        </footer>
        <HydrationMarker />
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    /// A cached page that is no longer a route (renamed, removed) would be cached under a dead key
    /// while its new path renders uncached; this keeps the lists and the route table together.
    #[test]
    fn every_cached_page_is_a_route() {
        let routes: Vec<String> = leptos_axum::generate_route_list(App)
            .iter()
            .map(|route| route.path().to_owned())
            .collect();
        for page in CACHED_FOR_ANONYMOUS.iter().chain(CACHED_PER_USER) {
            let path = page.split_once('?').map_or(*page, |(path, _)| path);
            assert!(
                routes.iter().any(|r| r == path),
                "{page} is not in {routes:?}"
            );
        }
    }
}
