//! `StripeGateway`: the one place that talks to Stripe (or stripe-sim) through async-stripe.
//! Everything else sees the plain types in `types`, so no other module depends on the client's types.
//! Server only.

/// One page of a list request continuing after the cursor `$after`, as `paginate` wants it. A macro
/// because async-stripe's list requests share `starting_after` and `send` by name, not by a trait.
macro_rules! list_page {
    ($gateway:expr, $request:expr, $after:expr) => {{
        let mut request = $request;
        if let Some(after) = $after {
            request = request.starting_after(after);
        }
        let client = &$gateway.client;
        async move {
            let page = request.send(client).await?;
            Ok((page.data, page.has_more))
        }
    }};
}

mod billing;
mod catalog;
mod checkout;
mod convert;
mod types;
mod webhook;

pub use catalog::StripeCatalog;
pub use types::*;

use crate::config::StripeConfig;
use crate::error::AppError;
use secrecy::ExposeSecret;
use std::future::Future;
use std::time::Duration;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError};

/// Attempts for one call when Stripe answers 429/5xx or cannot be reached.
const MAX_ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// A 429 means Stripe wants fewer requests: wait at least this long before the next try.
const RATE_LIMITED_BACKOFF: Duration = Duration::from_secs(1);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Stripe's largest page size.
const PAGE_SIZE: i64 = 100;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// Stripe could not be reached or kept failing (429/5xx/network) after the retries.
    #[error("Stripe unavailable: {0}")]
    Unavailable(String),
    /// Stripe refused the request (4xx): our request was wrong or refers to something missing.
    #[error("Stripe refused the request ({status}): {message}")]
    Refused {
        status: u16,
        message: String,
        /// Stripe's error code and the parameter it concerns, e.g. `resource_missing` / `customer`.
        code: Option<String>,
        param: Option<String>,
    },
    #[error("unexpected answer from Stripe: {0}")]
    Unexpected(String),
}

impl GatewayError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, GatewayError::Refused { status: 404, .. })
    }

    fn is_rate_limited(&self) -> bool {
        matches!(self, GatewayError::Unavailable(detail) if detail.starts_with("rate limited"))
    }

    /// The customer named in the request no longer exists in Stripe (deleted in the dashboard).
    pub fn is_missing_customer(&self) -> bool {
        match self {
            GatewayError::Refused {
                status,
                code,
                param,
                message,
            } => {
                (code.as_deref() == Some("resource_missing")
                    && param.as_deref() == Some("customer"))
                    || (*status == 404 && message.starts_with("No such customer"))
            }
            _ => false,
        }
    }
}

/// The gateway's errors as the app reports them: an outage is temporary (503, retry), anything
/// else is our side's fault (502).
impl From<GatewayError> for AppError {
    fn from(error: GatewayError) -> Self {
        match error {
            GatewayError::Unavailable(detail) => AppError::PaymentProviderUnavailable(detail),
            other => AppError::PaymentProvider(other.to_string()),
        }
    }
}

/// "Full jitter" exponential backoff: a random wait up to 200 ms, 400 ms, 800 ms…, so that many
/// instances retrying after one outage do not all come back at the same moment; never less than a
/// second after a 429. (async-stripe does not hand us the response's `Retry-After`; the sync
/// deadline bounds the total either way.)
fn backoff(attempt: u32, rate_limited: bool) -> Duration {
    let ceiling = FIRST_BACKOFF * 2u32.saturating_pow(attempt.saturating_sub(1));
    let jittered = ceiling.mul_f64(fastrand::f64());
    if rate_limited {
        jittered.max(RATE_LIMITED_BACKOFF)
    } else {
        jittered
    }
}

/// Whether a failed call is worth retrying, and the error to report if not.
fn classify(error: StripeError) -> (bool, GatewayError) {
    match error {
        StripeError::Stripe(api, status) => {
            let message = api.message.clone().unwrap_or_default();
            // 409 is Stripe's "idempotent request still in flight": retrying with the same key is right.
            let retryable = status == 429 || status == 409 || status >= 500;
            let rate_limited = status == 429;
            let error = if rate_limited {
                GatewayError::Unavailable(format!("rate limited (429): {message}"))
            } else if retryable {
                GatewayError::Unavailable(format!("status {status}: {message}"))
            } else {
                GatewayError::Refused {
                    status,
                    message,
                    code: api.code.as_ref().map(|c| c.as_str().to_owned()),
                    param: api.param.clone(),
                }
            };
            (retryable, error)
        }
        StripeError::ClientError(e) => (true, GatewayError::Unavailable(e)),
        StripeError::Timeout => (true, GatewayError::Unavailable("timeout".into())),
        StripeError::JSONDeserialize(e) => (false, GatewayError::Unexpected(e)),
        StripeError::ConfigError(e) => (false, GatewayError::Unexpected(e)),
    }
}

pub struct StripeGateway {
    client: Client,
    webhook_secrets: Vec<String>,
}

impl StripeGateway {
    pub fn new(config: &StripeConfig) -> Result<Self, GatewayError> {
        let client = ClientBuilder::new(config.secret_key.expose_secret())
            .url(config.api_base.as_str().trim_end_matches('/'))
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| GatewayError::Unexpected(e.to_string()))?;
        let webhook_secrets = config
            .webhook_secrets
            .iter()
            .map(|s| s.expose_secret().to_owned())
            .collect();
        Ok(Self {
            client,
            webhook_secrets,
        })
    }

    /// Runs `call` until it succeeds, fails for good, or `MAX_ATTEMPTS` is reached, backing off
    /// exponentially. Writes pass the same idempotency key on every attempt, so a retry after a lost
    /// answer cannot create a second object.
    #[tracing::instrument(skip(self, call))]
    async fn with_retries<T, F, Fut>(&self, call_name: &str, mut call: F) -> Result<T, GatewayError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, StripeError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match call().await {
                Ok(value) => return Ok(value),
                Err(error) => {
                    let (retryable, error) = classify(error);
                    if !retryable || attempt >= MAX_ATTEMPTS {
                        tracing::warn!(attempt, %error, "Stripe call failed");
                        return Err(error);
                    }
                    let backoff = backoff(attempt, error.is_rate_limited());
                    tracing::info!(attempt, %error, ?backoff, "Stripe call failed; retrying");
                    tokio::time::sleep(backoff).await;
                }
            }
        }
    }

    /// Every item of a list endpoint: `fetch_page(starting_after)` returns one page and whether more
    /// follow; each page is retried on its own.
    async fn paginate<T, F, Fut>(
        &self,
        call_name: &str,
        id_of: impl Fn(&T) -> String,
        mut fetch_page: F,
    ) -> Result<Vec<T>, GatewayError>
    where
        F: FnMut(Option<String>) -> Fut,
        Fut: Future<Output = Result<(Vec<T>, bool), StripeError>>,
    {
        let mut items = Vec::new();
        let mut starting_after: Option<String> = None;
        loop {
            let (page, has_more) = self
                .with_retries(call_name, || fetch_page(starting_after.clone()))
                .await?;
            starting_after = page.last().map(&id_of);
            items.extend(page);
            if !has_more || starting_after.is_none() {
                return Ok(items);
            }
        }
    }

    /// The id of the Stripe account the secret key belongs to (`GET /v1/account`).
    pub async fn account_id(&self) -> Result<String, GatewayError> {
        #[derive(miniserde::Deserialize)]
        struct Account {
            id: String,
        }
        let account = self
            .with_retries("retrieve account", || {
                let request = stripe_client_core::RequestBuilder::new(
                    stripe_client_core::StripeMethod::Get,
                    "/account",
                )
                .customize::<Account>();
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(account.id)
    }

    fn idempotent(key: &str) -> Result<RequestStrategy, GatewayError> {
        IdempotencyKey::new(key)
            .map(RequestStrategy::Idempotent)
            .map_err(|e| GatewayError::Unexpected(e.to_string()))
    }
}
