//! `AppError`: the server's one error type. This file is the one place that maps an error to an HTTP
//! status and to the message a user sees; internal details are logged, never sent.

use crate::billing::ssr::stripe::GatewayError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use leptos::prelude::{ServerFnError, use_context};
use leptos_axum::ResponseOptions;

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
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("session error: {0}")]
    Session(#[from] tower_sessions::session::Error),
    #[error("payment provider: {0}")]
    PaymentProvider(#[from] crate::billing::ssr::stripe::GatewayError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadCredentials | AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::CrossSite => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            // A database that cannot be reached is a temporary condition: 503 tells callers
            // (and Stripe's webhook deliveries) to retry.
            AppError::Database(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::PaymentProvider(GatewayError::Unavailable(_)) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::PaymentProvider(_) => StatusCode::BAD_GATEWAY,
            AppError::Session(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the user sees. Server-side failures get a generic sentence; their detail goes to the log.
    pub fn public_message(&self) -> String {
        match self {
            AppError::PaymentProvider(GatewayError::Unavailable(_)) => {
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
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let mut response = (self.status(), self.public_message()).into_response();
        if let AppError::RateLimited { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

impl AppError {
    /// Server functions return `ServerFnError`; converting through here logs the error and, for callers
    /// that are not a plain HTML form (scripts, `fetch`), sets the HTTP status. A plain form post keeps
    /// the redirect back to its page, where the message is shown inline. (`ServerFnError`'s blanket
    /// `From<impl Error>` would send internal details to the browser, so server functions call this.)
    pub fn into_server_fn_error(self) -> ServerFnError {
        let error = self;
        error.log();
        let is_html_form = use_context::<axum::http::request::Parts>()
            .and_then(|parts| {
                parts
                    .headers
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            })
            .is_some_and(|accept| accept.contains("text/html"));
        if !is_html_form && let Some(response) = use_context::<ResponseOptions>() {
            response.set_status(error.status());
            if let AppError::RateLimited { retry_after_secs } = error {
                response.insert_header(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
        }
        ServerFnError::ServerError(error.public_message())
    }
}

pub type AppResult<T> = Result<T, AppError>;
