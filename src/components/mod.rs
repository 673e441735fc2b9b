//! Small UI pieces any page may use. A leaf among the UI modules: it imports no feature.

mod fields;
#[cfg(test)]
pub mod form_contract;

pub use fields::{Feedback, Field, FieldMessage, FormFeedback};

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

/// Errors any form may show: the app's own answers (`AppError`'s public messages). Each feature adds
/// the messages of its own forms.
pub const COMMON_FORM_MESSAGES: &[&str] = &[
    "Wrong e-mail or password.",
    "Please sign in first.",
    "You do not have access to this.",
    "Not found.",
    "Cross-site request refused.",
    "We are busy right now. Please try again in a moment.",
    "We could not reach our payment provider. Please try again in a minute.",
    "Something went wrong on our side. Please try again in a moment.",
];
const GENERIC_FORM_MESSAGE: &str = "Something went wrong. Please try again.";

/// The text to show for a form error: one of the known messages, else a generic one. Without
/// JavaScript the error travels in the URL (`__err`), where anyone can write it; showing only known
/// text keeps a crafted link from putting its own words on our pages (security review L9).
pub fn form_error_text(error: &str, feature_messages: &[&str]) -> String {
    if let Some(known) = COMMON_FORM_MESSAGES
        .iter()
        .chain(feature_messages)
        .find(|known| **known == error)
    {
        return (*known).to_owned();
    }
    // The shop's "Sorry, only N left.": likewise only the number varies, and it is worth showing.
    if error
        .strip_prefix("Sorry, only ")
        .and_then(|rest| rest.strip_suffix(" left."))
        .is_some_and(|n| n.len() <= 6 && n.parse::<u32>().is_ok())
    {
        return error.to_owned();
    }
    // "Too many attempts. Try again in N seconds.": only the number varies.
    if error
        .strip_prefix("Too many attempts. Try again in ")
        .and_then(|rest| rest.strip_suffix(" seconds."))
        .is_some_and(|n| n.parse::<u32>().is_ok())
    {
        return "Too many attempts. Please wait a little and try again.".to_owned();
    }
    GENERIC_FORM_MESSAGE.to_owned()
}

/// The error of a form's last submission, shown inline. Without JavaScript the server redirects back
/// with the error in the URL and the action reads it from there; only known texts are shown.
#[component]
pub fn FormError(
    #[prop(into)] value: Signal<Option<Result<(), ServerFnError>>>,
    /// The messages this form's server function may answer with, besides the common ones.
    #[prop(optional)]
    messages: &'static [&'static str],
) -> impl IntoView {
    move || {
        value.get().and_then(Result::err).map(|error| {
            let message = match error {
                ServerFnError::ServerError(message) => form_error_text(&message, messages),
                _ => GENERIC_FORM_MESSAGE.to_owned(),
            };
            view! { <p class="notice error" role="alert">{message}</p> }
        })
    }
}

/// The page's own title and description, for the tab, bookmarks and search results (issue 21).
#[component]
pub fn PageMeta(#[prop(into)] title: String, #[prop(into)] description: String) -> impl IntoView {
    view! {
        <leptos_meta::Title text=format!("{title} · Storefront") />
        <leptos_meta::Meta name="description" content=description />
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    set_status(404);
    view! {
        <PageMeta title="Page not found" description="There is no page at this address." />
        <section class="hero">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to the start"</a></p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Security review L9: a crafted `__err` cannot put its own words on the page.
    #[test]
    fn l9_only_known_messages_are_shown() {
        let own = &["That plan is not on sale. Please choose one of the plans below."];
        assert_eq!(form_error_text(own[0], own), own[0]);
        assert_eq!(form_error_text("Not found.", &[]), "Not found.");
        assert_eq!(
            form_error_text("Your account is locked, call +1 555 0100", own),
            GENERIC_FORM_MESSAGE
        );
        assert_eq!(
            form_error_text(own[0], &[]),
            GENERIC_FORM_MESSAGE,
            "another form's message is not this form's"
        );
        assert_eq!(
            form_error_text("Too many attempts. Try again in 12 seconds.", &[]),
            "Too many attempts. Please wait a little and try again."
        );
        assert_eq!(
            form_error_text("Too many attempts. Try again in call us seconds.", &[]),
            GENERIC_FORM_MESSAGE
        );
        assert_eq!(
            form_error_text("Sorry, only 2 left.", &[]),
            "Sorry, only 2 left."
        );
        assert_eq!(
            form_error_text("Sorry, only call us left.", &[]),
            GENERIC_FORM_MESSAGE
        );
    }
}
