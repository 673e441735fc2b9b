//! Accounts: sign up, sign in, sign out, and who the current user is.

mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

mod recovery_pages;

pub use pages::{LoginPage, LogoutButton, SignupPage};
pub use recovery_pages::{CheckEmailPage, ForgotPasswordPage, ResetPasswordPage};

use crate::components::FieldMessage;
use crate::domain::{Email, LocalPath, Role, UserId};
use crate::request;
use leptos::prelude::*;

/// Passwords shorter than this are refused (the sign-up page says so too).
pub const MIN_PASSWORD_CHARS: usize = 10;

/// What a dead single-use link answers (expired, used, or never ours).
pub const LINK_EXPIRED: &str =
    "This link has expired or was already used. Please ask for a new one.";

/// What the account forms may answer besides the common errors, each with the field it is about
/// (`components::Feedback` shows nothing else). The tests of `ssr` check that every message they
/// raise is listed.
pub const AUTH_FORM_MESSAGES: &[FieldMessage] = &[
    (
        "Enter a valid e-mail address, like name@example.com.",
        Some("email"),
    ),
    (
        "This password is too weak: use at least 10 characters.",
        Some("password"),
    ),
    ("Use a password of at most 1024 bytes.", Some("password")),
    (
        "This password is too weak: it is one of the most common passwords.",
        Some("password"),
    ),
    (
        "This password is too weak: it repeats a single character.",
        Some("password"),
    ),
    (
        "This password is too weak: it contains your e-mail address.",
        Some("password"),
    ),
    (LINK_EXPIRED, None),
];

/// The signed-in user as pages see it. Never carries the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct User {
    pub id: UserId,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub email: Email,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub role: Role,
    /// Whether the owner has followed a verification link mailed to `email` (issue 21).
    pub email_verified: bool,
}

/// The user of the request being rendered, loaded once per request by the auth middleware.
/// Page components run only on the server in islands mode, so the browser build has no user.
pub fn current_user() -> Option<User> {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<User>().cloned())
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The signed-in user; or, for a visitor, `None` after redirecting to sign-in with `next` as the
/// page to come back to.
pub fn require_user(next: &str) -> Option<User> {
    let user = current_user();
    if user.is_none() {
        request::see_other(&request::login_path(next));
    }
    user
}

/// For a server function that needs a session: the signed-in user. For a visitor, a browser's form
/// post is redirected to sign-in (coming back to `next`) and gets `None`, which the function answers
/// as done; a script gets 401, because a redirect to a page means nothing to it.
#[cfg(feature = "ssr")]
pub fn session_user(next: &str) -> crate::error::AppResult<Option<User>> {
    match current_user() {
        Some(user) => Ok(Some(user)),
        None if request::accepts_html() => {
            request::see_other(&request::login_path(next));
            Ok(None)
        }
        None => Err(crate::error::AppError::Unauthenticated),
    }
}

#[server(prefix = "/api", endpoint = "signup")]
pub async fn signup(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), ServerFnError> {
    let kept = email.clone();
    let body = ssr::signup(email, password, next);
    crate::error::server_fn(request::keeping_fields(&[("email", &kept)], body)).await
}

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), ServerFnError> {
    let kept = email.clone();
    let body = ssr::login(email, password, next);
    crate::error::server_fn(request::keeping_fields(&[("email", &kept)], body)).await
}

/// "Forgot password?": mails a reset link if the address has an account (the answer never says).
#[server(prefix = "/api", endpoint = "forgot_password")]
pub async fn forgot_password(email: String) -> Result<(), ServerFnError> {
    let kept = email.clone();
    let body = ssr::recovery::forgot_password(email);
    crate::error::server_fn(request::keeping_fields(&[("email", &kept)], body)).await
}

/// Sets a new password with a reset link's token; every session of the account ends.
#[server(prefix = "/api", endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), ServerFnError> {
    crate::error::server_fn(ssr::recovery::reset_password(token, password)).await
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    crate::error::server_fn(ssr::logout()).await
}

/// Where to go after signing in: the `next` parameter when it is a path on this site (no open
/// redirect), the dashboard otherwise.
pub fn next_path(next: Option<&str>) -> LocalPath {
    LocalPath::or(next, "/dashboard")
}

#[cfg(test)]
mod tests {
    use super::next_path;

    #[test]
    fn next_path_refuses_other_sites() {
        let next = |raw: Option<&str>| next_path(raw).as_str().to_owned();
        assert_eq!(
            next(Some("/pricing?interval=year")),
            "/pricing?interval=year"
        );
        assert_eq!(next(Some("//evil.example")), "/dashboard");
        assert_eq!(next(Some("https://evil.example")), "/dashboard");
        assert_eq!(next(Some("/\\evil.example")), "/dashboard");
        assert_eq!(next(Some("/\t/evil.example")), "/dashboard");
        assert_eq!(next(None), "/dashboard");
    }
}
