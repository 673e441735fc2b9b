//! Small UI pieces any page may use. A leaf among the UI modules: it imports no feature.

use crate::request::set_status;
use leptos::prelude::*;

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
    set_status(404);
    view! {
        <section class="hero">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to the start"</a></p>
        </section>
    }
}
