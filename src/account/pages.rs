use super::{
    ACCOUNT_FORM_MESSAGES, ChangeEmail, ChangePassword, DATA_EXPORT_PATH, DeleteAccount,
    ResendVerification, SignOutOthers, VerifyEmail,
};
use crate::auth::{AUTH_FORM_MESSAGES, User, require_user};
use crate::components::{Feedback, Field, FieldMessage, FormFeedback, PageMeta};
use crate::domain::format_date;
use crate::request::{kept_field, query_flag};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The account forms raise their own messages and sign-up's (the address and password rules).
const FORMS: &[&[FieldMessage]] = &[ACCOUNT_FORM_MESSAGES, AUTH_FORM_MESSAGES];

/// One signed-in browser as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    pub this_browser: bool,
    pub agent: String,
    pub signed_in_at: i64,
    pub seen_at: i64,
}

/// What a change just done says at the top of the page (from the redirect's query).
fn done_notice() -> Option<&'static str> {
    [
        (
            "email_sent",
            "We have sent a link to the new address. Your address changes once you follow it.",
        ),
        (
            "verification_sent",
            "We have sent a new link to your address. It works for 48 hours.",
        ),
        (
            "password_changed",
            "Your password was changed, and every other browser was signed out.",
        ),
        ("signed_out", "Every other browser was signed out."),
    ]
    .into_iter()
    .find(|(flag, _)| query_flag(flag))
    .map(|(_, text)| text)
}

/// Says on the dashboard (and the account page) that the address is not verified yet, with a button
/// for a new link.
#[component]
pub fn UnverifiedNotice(user: User) -> impl IntoView {
    let resend = ServerAction::<ResendVerification>::new();
    (!user.email_verified).then(|| {
        view! {
            <div class="notice warn" role="status" data-testid="unverified">
                <p>
                    {format!("Please confirm your address, {}: ", user.email)}
                    "follow the link we mailed you. Until then receipts and notices may not reach you."
                </p>
                <ActionForm action=resend attr:class="inline">
                    <button type="submit" class="link-button">"Send a new link"</button>
                </ActionForm>
                " · "
                <a href="/account">"Change the address"</a>
            </div>
        }
    })
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let Some(user) = require_user("/account") else {
        return view! { <p>"Please " <a href="/login?next=/account">"sign in"</a> "."</p> }
            .into_any();
    };
    let body = Suspend::new(async move {
        let sessions = load_sessions(&user).await;
        view! { <Account user=user.clone() sessions /> }
    });
    view! {
        <PageMeta title="Your account" description="Change your e-mail address or password, see where you are signed in, and download or delete your data." />
        <Suspense fallback=|| ()>{body}</Suspense>
    }
    .into_any()
}

#[component]
fn Account(user: User, sessions: Vec<SessionView>) -> impl IntoView {
    let change_email = ServerAction::<ChangeEmail>::new();
    let change_password = ServerAction::<ChangePassword>::new();
    let sign_out = ServerAction::<SignOutOthers>::new();
    let email_feedback = Feedback::of(change_email.value().get_untracked(), FORMS);
    let kept_email = email_feedback.as_ref().and_then(|_| kept_field("email"));
    let password_feedback = Feedback::of(change_password.value().get_untracked(), FORMS);
    let sign_out_feedback = Feedback::of(sign_out.value().get_untracked(), FORMS);
    let verified = if user.email_verified {
        "confirmed"
    } else {
        "not confirmed yet"
    };
    view! {
        <section class="account stack">
            <h1>"Your account"</h1>
            {done_notice().map(|text| view! { <p class="notice ok" role="status">{text}</p> })}
            <UnverifiedNotice user=user.clone() />
            <p>
                <a href="/dashboard">"Plan and billing"</a> " · " <a href="/dashboard#orders">"Orders"</a>
            </p>
            <section class="card stack" aria-labelledby="email-heading">
                <h2 id="email-heading">"E-mail address"</h2>
                <p>{format!("{} ({verified})", user.email)}</p>
                <FormFeedback feedback=email_feedback.clone() />
                <ActionForm action=change_email attr:class="stack">
                    <Field form="email" label="New e-mail address" name="email" kind="email" autocomplete="email" value=kept_email feedback=email_feedback.clone() />
                    <Field form="email" label="Current password" name="current_password" kind="password" autocomplete="current-password" feedback=email_feedback />
                    <button type="submit" class="button">"Change the address"</button>
                </ActionForm>
            </section>
            <section class="card stack" aria-labelledby="password-heading">
                <h2 id="password-heading">"Password"</h2>
                <FormFeedback feedback=password_feedback.clone() />
                <ActionForm action=change_password attr:class="stack">
                    <Field form="password" label="Current password" name="current_password" kind="password" autocomplete="current-password" feedback=password_feedback.clone() />
                    <Field form="password" label="New password" name="password" kind="password" autocomplete="new-password" hint=Some("At least 10 characters, not a common password.".to_owned()) feedback=password_feedback />
                    <button type="submit" class="button">"Change the password"</button>
                </ActionForm>
            </section>
            <section class="card stack" aria-labelledby="sessions-heading">
                <h2 id="sessions-heading">"Where you are signed in"</h2>
                <SessionList sessions />
                <FormFeedback feedback=sign_out_feedback.clone() />
                <ActionForm action=sign_out attr:class="stack">
                    <Field form="sessions" label="Current password" name="current_password" kind="password" autocomplete="current-password" feedback=sign_out_feedback />
                    <button type="submit" class="button">"Sign out everywhere else"</button>
                </ActionForm>
            </section>
            <YourData />
        </section>
    }
}

/// Export and erasure: what is kept after a deletion is said before the button.
#[component]
fn YourData() -> impl IntoView {
    let delete = ServerAction::<DeleteAccount>::new();
    let feedback = Feedback::of(delete.value().get_untracked(), FORMS);
    view! {
        <section class="card stack" aria-labelledby="data-heading">
            <h2 id="data-heading">"Your data"</h2>
            <p>
                <a href=DATA_EXPORT_PATH download="storefront-my-data.json" class="button">
                    "Download my data"
                </a>
            </p>
            <p class="muted">
                "One JSON file: your account, subscriptions, invoices, orders with their lines, and the                  mails we sent you."
            </p>
            <h3>"Delete my account"</h3>
            <p class="muted">
                "Your subscriptions end at once, and your address, password, sessions, carts and mails                  are erased. The records of your orders and invoices are kept without your name, as                  bookkeeping law requires. This cannot be undone."
            </p>
            <FormFeedback feedback=feedback.clone() />
            <ActionForm action=delete attr:class="stack">
                <Field form="delete" label="Current password" name="current_password" kind="password" autocomplete="current-password" feedback=feedback />
                <button type="submit" class="button danger">"Delete my account"</button>
            </ActionForm>
        </section>
    }
}

/// Where a deleted account's browser lands.
#[component]
pub fn AccountDeletedPage() -> impl IntoView {
    view! {
        <PageMeta title="Your account was deleted" description="Your Storefront account was deleted." />
        <section class="auth-card">
            <h1>"Your account was deleted"</h1>
            <p role="status">
                "Your subscriptions were cancelled and your personal data erased. We have sent a last                  mail to confirm it."
            </p>
            <p><a href="/signup" class="button">"Create a new account"</a></p>
        </section>
    }
}

#[component]
fn SessionList(sessions: Vec<SessionView>) -> impl IntoView {
    view! {
        <ul class="sessions" data-testid="sessions">
            {sessions
                .into_iter()
                .map(|session| {
                    view! {
                        <li>
                            <strong>{session.agent}</strong>
                            {session.this_browser.then(|| view! { " " <span class="badge">"This browser"</span> })}
                            <br />
                            <small class="muted">
                                {format!(
                                    "Signed in {} · last seen {}",
                                    format_date(session.signed_in_at),
                                    format_date(session.seen_at),
                                )}
                            </small>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// The page a verification link opens: one button, so that a mail scanner's visit spends nothing.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let action = ServerAction::<VerifyEmail>::new();
    let token = use_query_map()
        .read_untracked()
        .get("token")
        .unwrap_or_default();
    let feedback = Feedback::of(action.value().get_untracked(), FORMS);
    let body = Suspend::new(async move {
        let Some(address) = address_of_link(&token).await else {
            return view! {
                <p class="notice error" role="alert">{crate::auth::LINK_EXPIRED}</p>
                <p class="muted">"Sign in and ask for a new link from your account page."</p>
                <p><a href="/login?next=/account" class="button primary">"Sign in"</a></p>
            }
            .into_any();
        };
        view! {
            <FormFeedback feedback=feedback.clone() />
            {feedback.clone().and_then(|f| f.field.map(|_| view! { <p class="notice error" role="alert">{f.message}</p> }))}
            <p>{format!("Confirm that {address} is your address.")}</p>
            <ActionForm action=action attr:class="stack">
                <input type="hidden" name="token" value=token.clone() />
                <button type="submit" class="button primary">"Confirm my address"</button>
            </ActionForm>
        }
        .into_any()
    });
    view! {
        <PageMeta title="Confirm your e-mail address" description="Confirm the e-mail address of your Storefront account." />
        <section class="auth-card">
            <h1>"Confirm your e-mail address"</h1>
            <Suspense fallback=|| ()>{body}</Suspense>
        </section>
    }
}

#[cfg(feature = "ssr")]
async fn load_sessions(user: &User) -> Vec<SessionView> {
    match super::ssr::sessions_of(user).await {
        Ok(sessions) => sessions
            .into_iter()
            .map(|(this_browser, session)| SessionView {
                this_browser,
                agent: session.agent,
                signed_in_at: session.signed_in_at,
                seen_at: session.seen_at,
            })
            .collect(),
        Err(error) => {
            tracing::error!(%error, "sessions not read");
            crate::request::set_status(503);
            Vec::new()
        }
    }
}

#[cfg(not(feature = "ssr"))]
async fn load_sessions(_user: &User) -> Vec<SessionView> {
    Vec::new()
}

#[cfg(feature = "ssr")]
async fn address_of_link(token: &str) -> Option<String> {
    match super::ssr::address_of_link(token).await {
        Ok(address) => address.map(|a| a.to_string()),
        Err(error) => {
            tracing::error!(%error, "verification link not read");
            crate::request::set_status(503);
            None
        }
    }
}

#[cfg(not(feature = "ssr"))]
async fn address_of_link(_token: &str) -> Option<String> {
    None
}
