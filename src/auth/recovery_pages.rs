//! The pages around mailed links: "check your inbox" after sign-up, "forgot password?" and the
//! page a reset link opens.

use super::pages::next_of_page;
use super::{AUTH_FORM_MESSAGES, ForgotPassword, MIN_PASSWORD_CHARS, ResetPassword};
use crate::components::{Feedback, Field, FormFeedback, PageMeta};
use crate::request::{kept_field, query_flag, urlencode};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Where sign-up always lands, whether or not the address had an account (it must not say which).
#[component]
pub fn CheckEmailPage() -> impl IntoView {
    let next = next_of_page();
    let login_href = format!("/login?next={}", urlencode(&next));
    view! {
        <PageMeta title="Check your inbox" description="Confirm your e-mail address with the link we sent you." />
        <section class="auth-card">
            <h1>"Check your inbox"</h1>
            <p role="status">
                "We have sent a mail to the address you gave. Follow its link to confirm the address \
                 and continue; it works for 48 hours."
            </p>
            <p class="muted">
                "No mail after a few minutes? Look in your spam folder, or "
                <a href=login_href>"sign in"</a>
                " and ask for a new link from your account. If the address already had an account, \
                 the mail tells you how to sign in instead."
            </p>
        </section>
    }
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<ForgotPassword>::new();
    let feedback = Feedback::of(action.value().get_untracked(), &[AUTH_FORM_MESSAGES]);
    let email = feedback.as_ref().and_then(|_| kept_field("email"));
    let sent = feedback.is_none() && query_flag("sent");
    view! {
        <PageMeta title="Reset your password" description="Get a link to choose a new password for your Storefront account." />
        <section class="auth-card">
            <h1>"Reset your password"</h1>
            {sent.then(|| view! {
                <p class="notice ok" role="status">
                    "If an account uses that address, we have sent it a link to choose a new \
                     password. The link works for 30 minutes."
                </p>
            })}
            <FormFeedback feedback=feedback.clone() />
            <p class="muted">"Enter the e-mail address of your account and we will mail you a link."</p>
            <ActionForm action=action attr:class="stack">
                <Field label="E-mail" name="email" kind="email" autocomplete="email" value=email feedback=feedback />
                <button type="submit" class="button primary">"Send me a link"</button>
            </ActionForm>
            <p class="muted"><a href="/login">"Back to sign in"</a></p>
        </section>
    }
}

/// The page a reset link opens: the new-password form while the link is live.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let token = use_query_map()
        .read_untracked()
        .get("token")
        .unwrap_or_default();
    let feedback = Feedback::of(action.value().get_untracked(), &[AUTH_FORM_MESSAGES]);
    let body = Suspend::new(async move {
        if !link_is_live(&token).await {
            return view! {
                <p class="notice error" role="alert">{super::LINK_EXPIRED}</p>
                <p><a href="/forgot-password" class="button primary">"Send me a new link"</a></p>
            }
            .into_any();
        }
        let hint = format!("At least {MIN_PASSWORD_CHARS} characters, not a common password.");
        view! {
            <FormFeedback feedback=feedback.clone() />
            <ActionForm action=action attr:class="stack">
                <Field label="New password" name="password" kind="password" autocomplete="new-password" hint=Some(hint) feedback=feedback />
                <input type="hidden" name="token" value=token.clone() />
                <button type="submit" class="button primary">"Set the new password"</button>
            </ActionForm>
            <p class="muted">"Every browser signed in to your account is signed out."</p>
        }
        .into_any()
    });
    view! {
        <PageMeta title="Choose a new password" description="Choose a new password for your Storefront account." />
        <section class="auth-card">
            <h1>"Choose a new password"</h1>
            <Suspense fallback=|| ()>{body}</Suspense>
        </section>
    }
}

#[cfg(feature = "ssr")]
async fn link_is_live(token: &str) -> bool {
    match super::ssr::recovery::reset_link_is_live(token).await {
        Ok(live) => live,
        Err(error) => {
            tracing::error!(%error, "reset link not checked");
            crate::request::set_status(503);
            false
        }
    }
}

#[cfg(not(feature = "ssr"))]
async fn link_is_live(_token: &str) -> bool {
    false
}
