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

mod account;
mod billing;
mod budget;
mod catalog;
mod checkout;
mod convert;
mod http;
mod pricing;
mod shop;
mod types;
mod webhook;

pub use budget::StripeBudget;
pub use catalog::StripeCatalog;
pub use pricing::{PromotionRecord, TaxLine};
pub use types::*;

use crate::config::StripeConfig;
use crate::error::AppError;
use http::{CallError, StripeHttp};
use secrecy::ExposeSecret;
use std::future::Future;
use std::time::Duration;
use stripe_client_core::{IdempotencyKey, RequestStrategy};

/// Attempts for one call when Stripe answers 429/5xx or cannot be reached.
const MAX_ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// A 429 means Stripe wants fewer requests: wait at least this long before the next try.
const RATE_LIMITED_BACKOFF: Duration = Duration::from_secs(1);
/// The longest `Retry-After` honoured; longer, and the call fails now (the caller's deadline would
/// end it anyway, and Stripe retries webhooks itself).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
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
/// instances retrying after one outage do not all come back at the same moment. Stripe's
/// `Retry-After` is a floor, and a 429 without one waits at least a second.
fn backoff(attempt: u32, retry_after: Option<Duration>, rate_limited: bool) -> Duration {
    let ceiling = FIRST_BACKOFF * 2u32.saturating_pow(attempt.saturating_sub(1));
    let jittered = ceiling.mul_f64(fastrand::f64());
    let floor = retry_after.unwrap_or(if rate_limited {
        RATE_LIMITED_BACKOFF
    } else {
        Duration::ZERO
    });
    jittered.max(floor)
}

/// What to do after a failed attempt.
struct Verdict {
    retry: bool,
    /// At least this long before the next attempt (Stripe's `Retry-After`).
    retry_after: Option<Duration>,
    rate_limited: bool,
    error: GatewayError,
}

fn classify(error: CallError) -> Verdict {
    let transient = |detail: String| Verdict {
        retry: true,
        retry_after: None,
        rate_limited: false,
        error: GatewayError::Unavailable(detail),
    };
    match error {
        CallError::Api {
            status,
            message,
            code,
            param,
            retry_after,
            should_retry,
        } => {
            // 409 is Stripe's "idempotent request still in flight": retrying with the same key is right.
            let by_status = status == 429 || status == 409 || status >= 500;
            // Stripe's own header beats the status code, both ways.
            let retry = should_retry.unwrap_or(by_status);
            let error = if by_status {
                GatewayError::Unavailable(format!("status {status}: {message}"))
            } else {
                GatewayError::Refused {
                    status,
                    message,
                    code,
                    param,
                }
            };
            Verdict {
                retry: retry && retry_after.is_none_or(|wait| wait <= MAX_RETRY_AFTER),
                retry_after,
                rate_limited: status == 429,
                error,
            }
        }
        CallError::Network(detail) => transient(detail),
        CallError::Timeout => transient("timeout".into()),
        CallError::Decode(detail) => Verdict {
            retry: false,
            retry_after: None,
            rate_limited: false,
            error: GatewayError::Unexpected(detail),
        },
    }
}

pub struct StripeGateway {
    client: StripeHttp,
    webhook_secrets: Vec<String>,
}

impl StripeGateway {
    pub fn new(config: &StripeConfig) -> Result<Self, GatewayError> {
        let client = StripeHttp::new(
            &config.secret_key,
            config.api_base.as_str(),
            REQUEST_TIMEOUT,
        )
        .map_err(GatewayError::Unexpected)?;
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

    /// Marks the start of a Stripe read whose start is later compared with events' `created`.
    pub fn begin_read(&self) -> ReadStart {
        ReadStart(std::time::Instant::now())
    }

    /// When the read marked by `start` began, in whole seconds on Stripe's clock, never later than
    /// it really began. Asked after the read: its own answers set the clock, so even an instance's
    /// first read (before Stripe had answered once) gets Stripe's time, not ours.
    pub fn read_began_at(&self, start: ReadStart) -> i64 {
        let elapsed = i64::try_from(start.0.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.client
            .clock()
            .now_millis()
            .saturating_sub(elapsed)
            .div_euclid(1000)
    }

    /// How long until Stripe's clock shows the start of second `at` (zero if it does already), at
    /// most `limit`.
    pub fn until_stripe_time(&self, at: i64, limit: std::time::Duration) -> std::time::Duration {
        let millis = at
            .saturating_mul(1000)
            .saturating_sub(self.client.clock().now_millis());
        u64::try_from(millis).map_or(std::time::Duration::ZERO, |millis| {
            std::time::Duration::from_millis(millis).min(limit)
        })
    }

    /// Runs `call` until it succeeds, fails for good, or `MAX_ATTEMPTS` is reached, backing off
    /// exponentially. Writes pass the same idempotency key on every attempt, so a retry after a lost
    /// answer cannot create a second object.
    #[tracing::instrument(skip(self, call))]
    async fn with_retries<T, F, Fut>(&self, call_name: &str, mut call: F) -> Result<T, GatewayError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, CallError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match call().await {
                Ok(value) => return Ok(value),
                Err(error) => {
                    let verdict = classify(error);
                    let error = verdict.error;
                    if !verdict.retry || attempt >= MAX_ATTEMPTS {
                        tracing::warn!(attempt, %error, "Stripe call failed");
                        return Err(error);
                    }
                    let backoff = backoff(attempt, verdict.retry_after, verdict.rate_limited);
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
        Fut: Future<Output = Result<(Vec<T>, bool), CallError>>,
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

/// The moment a Stripe read began, on our monotonic clock (`StripeGateway::begin_read`).
#[derive(Debug, Clone, Copy)]
pub struct ReadStart(std::time::Instant);

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(status: u16, retry_after: Option<u64>, should_retry: Option<bool>) -> CallError {
        CallError::Api {
            status,
            message: "m".into(),
            code: None,
            param: None,
            retry_after: retry_after.map(Duration::from_secs),
            should_retry,
        }
    }

    /// Security review L15: Stripe's `Stripe-Should-Retry` beats the status code, both ways.
    #[test]
    fn l15_stripe_should_retry_decides_over_the_status() {
        assert!(classify(api_error(500, None, None)).retry);
        assert!(!classify(api_error(500, None, Some(false))).retry);
        assert!(classify(api_error(400, None, Some(true))).retry);
        assert!(!classify(api_error(400, None, None)).retry);
        assert!(
            !classify(api_error(429, Some(600), None)).retry,
            "too long a wait fails now"
        );
    }

    /// Security review L15: backoff is jittered, and never shorter than Stripe's `Retry-After`.
    #[test]
    fn l15_backoff_is_jittered_and_honours_retry_after() {
        let waits: Vec<Duration> = (0..50).map(|_| backoff(3, None, false)).collect();
        assert!(waits.iter().all(|w| *w <= Duration::from_millis(800)));
        assert!(waits.iter().any(|w| *w != waits[0]), "not all the same");
        assert!(backoff(1, Some(Duration::from_secs(2)), true) >= Duration::from_secs(2));
        assert!(backoff(1, None, true) >= RATE_LIMITED_BACKOFF);
    }
}
