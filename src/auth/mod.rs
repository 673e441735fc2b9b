//! Accounts: sign up, sign in, sign out, and who the current user is.

mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use pages::{LoginPage, LogoutButton, SignupPage};

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Ordered by tier: a user's role is the highest tier among their live subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Free,
    Basic,
    Pro,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Free => "free",
            Role::Basic => "basic",
            Role::Pro => "pro",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Free => "Free",
            Role::Basic => "Basic",
            Role::Pro => "Pro",
        }
    }
}

impl TryFrom<String> for Role {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.as_str() {
            "free" => Ok(Role::Free),
            "basic" => Ok(Role::Basic),
            "pro" => Ok(Role::Pro),
            other => Err(format!("unknown role {other:?}")),
        }
    }
}

/// The signed-in user as pages see it. Never carries the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct User {
    pub id: i64,
    pub email: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub role: Role,
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

#[server(prefix = "/api", endpoint = "signup")]
pub async fn signup(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), ServerFnError> {
    ssr::signup(email, password, next)
        .await
        .map_err(crate::error::AppError::into_server_fn_error)
}

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), ServerFnError> {
    ssr::login(email, password, next)
        .await
        .map_err(crate::error::AppError::into_server_fn_error)
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    ssr::logout()
        .await
        .map_err(crate::error::AppError::into_server_fn_error)
}

/// Only same-site relative paths are accepted as a place to go after signing in (no open redirect).
pub fn safe_next_path(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path
        }
        _ => "/dashboard",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_path_refuses_other_sites() {
        assert_eq!(
            safe_next_path(Some("/pricing?interval=year")),
            "/pricing?interval=year"
        );
        assert_eq!(safe_next_path(Some("//evil.example")), "/dashboard");
        assert_eq!(safe_next_path(Some("https://evil.example")), "/dashboard");
        assert_eq!(safe_next_path(Some("/\\evil.example")), "/dashboard");
        assert_eq!(safe_next_path(None), "/dashboard");
    }

    #[test]
    fn roles_round_trip() {
        for role in [Role::Free, Role::Basic, Role::Pro] {
            assert_eq!(Role::try_from(role.as_str().to_owned()), Ok(role));
        }
        assert!(Role::try_from("admin".to_owned()).is_err());
    }
}
