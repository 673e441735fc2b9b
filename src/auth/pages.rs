use super::{
    AUTH_FORM_MESSAGES, Login, Logout, MIN_PASSWORD_CHARS, Signup, current_user, next_path,
};
use crate::components::{Feedback, Field, FormFeedback, PageMeta};
use crate::request::{kept_field, query_flag, urlencode};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Signed-in visitors have nothing to do on the sign-in pages: send them on.
fn redirect_if_signed_in(next: &str) {
    if current_user().is_some() {
        crate::request::redirect(next);
    }
}

/// The `next` query parameter of the page, made safe (`next_path`).
pub(super) fn next_of_page() -> String {
    let next = use_query_map().read_untracked().get("next");
    next_path(next.as_deref()).as_str().to_owned()
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let next = next_of_page();
    redirect_if_signed_in(&next);
    let signup_href = format!("/signup?next={}", urlencode(&next));
    let feedback = Feedback::of(action.value().get_untracked(), &[AUTH_FORM_MESSAGES]);
    let email = feedback.as_ref().and_then(|_| kept_field("email"));
    let notice = if query_flag("reset") {
        Some("Your password was changed. Sign in with the new one.")
    } else {
        None
    };
    view! {
        <PageMeta title="Sign in" description="Sign in to your Storefront account to manage your plan, orders and billing." />
        <section class="auth-card">
            <h1>"Sign in"</h1>
            {notice.map(|text| view! { <p class="notice ok" role="status">{text}</p> })}
            <FormFeedback feedback=feedback.clone() />
            <ActionForm action=action attr:class="stack">
                <Field label="E-mail" name="email" kind="email" autocomplete="email" value=email feedback=feedback.clone() />
                <Field label="Password" name="password" kind="password" autocomplete="current-password" feedback=feedback />
                <input type="hidden" name="next" value=next />
                <button type="submit" class="button primary">"Sign in"</button>
            </ActionForm>
            <p class="muted"><a href="/forgot-password">"Forgot password?"</a></p>
            <p class="muted">"New here? " <a href=signup_href>"Create an account"</a></p>
        </section>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<Signup>::new();
    let next = next_of_page();
    redirect_if_signed_in(&next);
    let login_href = format!("/login?next={}", urlencode(&next));
    let feedback = Feedback::of(action.value().get_untracked(), &[AUTH_FORM_MESSAGES]);
    let email = feedback.as_ref().and_then(|_| kept_field("email"));
    let hint = format!("At least {MIN_PASSWORD_CHARS} characters, not a common password.");
    view! {
        <PageMeta title="Create your account" description="Create a Storefront account to subscribe to a plan and keep your orders and receipts in one place." />
        <section class="auth-card">
            <h1>"Create your account"</h1>
            <FormFeedback feedback=feedback.clone() />
            <ActionForm action=action attr:class="stack">
                <Field label="E-mail" name="email" kind="email" autocomplete="email" value=email feedback=feedback.clone() />
                <Field label="Password" name="password" kind="password" autocomplete="new-password" hint=Some(hint) feedback=feedback />
                <input type="hidden" name="next" value=next />
                <button type="submit" class="button primary">"Create account"</button>
            </ActionForm>
            <p class="muted">"Already have an account? " <a href=login_href>"Sign in"</a></p>
        </section>
    }
}

/// Sign-out is a POST (a link would let any page sign the user out).
#[component]
pub fn LogoutButton() -> impl IntoView {
    let action = ServerAction::<Logout>::new();
    view! {
        <ActionForm action=action attr:class="inline">
            <button type="submit" class="link-button">"Sign out"</button>
        </ActionForm>
    }
}
