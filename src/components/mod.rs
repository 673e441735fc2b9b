//! Layout and small shared pieces.

use crate::auth::{LogoutButton, current_user};
use leptos::prelude::*;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let user = current_user();
    let account = match user {
        Some(user) => view! {
            <a href="/dashboard" class="nav-account" title="Your account">{user.email}</a>
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
        <header class="site-header">
            <a href="/" class="brand">"Storefront"</a>
            <nav class="site-nav">
                <a href="/pricing">"Pricing"</a>
                {account}
            </nav>
        </header>
        <main class="site-main">{children()}</main>
        <footer class="site-footer">
            <span>"© Storefront"</span>
            <a href="/pricing">"Plans"</a>
        </footer>
        <HydrationMarker />
    }
}

/// Marks `<body data-hydrated>` once the browser build has taken over, so end-to-end tests (and
/// anyone curious) can tell a hydrated page from a server-rendered one.
#[island]
pub fn HydrationMarker() -> impl IntoView {
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

/// The error of a form's last submission, shown inline. Without JavaScript the server redirects back
/// with the error in the URL and the action reads it from there.
#[component]
pub fn FormError(#[prop(into)] value: Signal<Option<Result<(), ServerFnError>>>) -> impl IntoView {
    move || {
        value.get().and_then(Result::err).map(|error| {
            let message = match error {
                ServerFnError::ServerError(message) => message,
                _ => "Something went wrong. Please try again.".to_owned(),
            };
            view! { <p class="notice error" role="alert">{message}</p> }
        })
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="hero">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to the start"</a></p>
        </section>
    }
}
