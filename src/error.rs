//! `AppError`: the server's one error type. This file is the one place that maps an error to an HTTP
//! status and to the message a user sees; internal details are logged, never sent.

use crate::request::accepts_html;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use leptos::prelude::{ServerFnError, use_context};
use leptos_axum::ResponseOptions;
use std::future::Future;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input the user can fix; the message says how.
    #[error("{0}")]
    Invalid(String),
    /// Deliberately does not say whether the e-mail or the password was wrong.
    #[error("Wrong e-mail or password.")]
    BadCredentials,
    #[error("Please sign in first.")]
    Unauthenticated,
    #[error("You do not have access to this.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    RateLimited { retry_after_secs: u64 },
    #[error("Cross-site request refused.")]
    CrossSite,
    /// A bounded resource is full (password hashing); the caller should retry shortly.
    #[error("We are busy right now. Please try again in a moment.")]
    Busy { retry_after_secs: u64 },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("session error: {0}")]
    Session(#[from] tower_sessions::session::Error),
    /// Stripe could not be reached, or kept failing after retries (filled by the gateway).
    #[error("payment provider unavailable: {0}")]
    PaymentProviderUnavailable(String),
    /// Stripe refused or misunderstood a request of ours (filled by the gateway).
    #[error("payment provider: {0}")]
    PaymentProvider(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadCredentials | AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::CrossSite => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            // Temporary conditions: 503 tells callers (and Stripe's webhook deliveries) to retry.
            AppError::Database(_)
            | AppError::PaymentProviderUnavailable(_)
            | AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            // The session store is the database: a lost connection is as temporary (review 2, M1:
            // a `cart_add` whose connection was terminated answered 500).
            AppError::Session(tower_sessions::session::Error::Store(_)) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::PaymentProvider(_) => StatusCode::BAD_GATEWAY,
            AppError::Session(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the user sees. Server-side failures get a generic sentence; their detail goes to the log.
    pub fn public_message(&self) -> String {
        match self {
            AppError::PaymentProviderUnavailable(_) => {
                "We could not reach our payment provider. Please try again in a minute.".to_owned()
            }
            AppError::Database(_)
            | AppError::Session(_)
            | AppError::Internal(_)
            | AppError::PaymentProvider(_) => {
                "Something went wrong on our side. Please try again in a moment.".to_owned()
            }
            other => other.to_string(),
        }
    }

    fn log(&self) {
        if self.status().is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::debug!(error = %self, "request refused");
        }
    }

    fn retry_after(&self) -> Option<HeaderValue> {
        match self {
            AppError::RateLimited { retry_after_secs } | AppError::Busy { retry_after_secs } => {
                Some(HeaderValue::from(*retry_after_secs))
            }
            _ => None,
        }
    }

    /// Server functions return `ServerFnError`; converting through here logs the error and, for callers
    /// that are not a plain HTML form (scripts, `fetch`), sets the HTTP status. A plain form post keeps
    /// the redirect back to its page, where the message is shown inline. (`ServerFnError`'s blanket
    /// `From<impl Error>` would send internal details to the browser, so server functions use this.)
    pub fn into_server_fn_error(self) -> ServerFnError {
        self.log();
        if !accepts_html()
            && let Some(response) = use_context::<ResponseOptions>()
        {
            response.set_status(self.status());
            if let Some(retry_after) = self.retry_after() {
                response.insert_header(header::RETRY_AFTER, retry_after);
            }
        }
        ServerFnError::ServerError(self.public_message())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let retry_after = self.retry_after();
        let mut response = (self.status(), self.public_message()).into_response();
        if let Some(retry_after) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after);
        }
        response
    }
}

/// Runs a server function's body and maps its error for the client (see `into_server_fn_error`).
pub async fn server_fn<T>(body: impl Future<Output = AppResult<T>>) -> Result<T, ServerFnError> {
    body.await.map_err(AppError::into_server_fn_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::COMMON_FORM_MESSAGES;

    /// L9: forms show only listed messages, so every fixed answer of ours must be listed.
    #[test]
    fn l9_every_fixed_public_message_is_a_known_form_message() {
        for error in [
            AppError::BadCredentials,
            AppError::Unauthenticated,
            AppError::Forbidden,
            AppError::NotFound,
            AppError::CrossSite,
            AppError::Busy {
                retry_after_secs: 1,
            },
            AppError::PaymentProviderUnavailable("timeout".into()),
            AppError::PaymentProvider("refused".into()),
            AppError::Internal("bug".into()),
        ] {
            let message = error.public_message();
            assert!(
                COMMON_FORM_MESSAGES.contains(&message.as_str()),
                "{message:?} is not listed"
            );
        }
    }

    /// Security review 2, M1: a session store failure is the database failing, which callers retry.
    #[test]
    fn m1_a_session_store_failure_answers_503() {
        let lost = tower_sessions::session::Error::Store(
            tower_sessions::session_store::Error::Backend("connection terminated".into()),
        );
        assert_eq!(
            AppError::Session(lost).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
