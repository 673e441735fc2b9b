use super::{
    AUTH_FORM_MESSAGES, Login, Logout, MIN_PASSWORD_CHARS, Signup, current_user, next_path,
};
use crate::components::FormError;
use crate::request::urlencode;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Signed-in visitors have nothing to do on the sign-in pages: send them on.
fn redirect_if_signed_in(next: &str) {
    if current_user().is_some() {
        crate::request::redirect(next);
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let next = use_query_map().read_untracked().get("next");
    let next = next_path(next.as_deref()).as_str().to_owned();
    redirect_if_signed_in(&next);
    let signup_href = format!("/signup?next={}", urlencode(&next));
    view! {
        <section class="auth-card">
            <h1>"Sign in"</h1>
            <FormError value=action.value() messages=AUTH_FORM_MESSAGES />
            <ActionForm action=action attr:class="stack">
                <label>"E-mail" <input type="email" name="email" required autocomplete="email" /></label>
                <label>
                    "Password"
                    <input type="password" name="password" required autocomplete="current-password" />
                </label>
                <input type="hidden" name="next" value=next />
                <button type="submit" class="button primary">"Sign in"</button>
            </ActionForm>
            <p class="muted">"New here? " <a href=signup_href>"Create an account"</a></p>
        </section>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<Signup>::new();
    let next = use_query_map().read_untracked().get("next");
    let next = next_path(next.as_deref()).as_str().to_owned();
    redirect_if_signed_in(&next);
    let login_href = format!("/login?next={}", urlencode(&next));
    view! {
        <section class="auth-card">
            <h1>"Create your account"</h1>
            <FormError value=action.value() messages=AUTH_FORM_MESSAGES />
            <ActionForm action=action attr:class="stack">
                <label>"E-mail" <input type="email" name="email" required autocomplete="email" /></label>
                <label>
                    "Password"
                    <input type="password" name="password" required autocomplete="new-password" />
                    <small class="muted">{format!("At least {MIN_PASSWORD_CHARS} characters, not a common password.")}</small>
                </label>
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
