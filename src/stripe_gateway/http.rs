//! The HTTP side of the gateway: async-stripe's requests (its `StripeClient` trait) sent with
//! reqwest, one attempt per call. Our own client rather than async-stripe's because that one keeps
//! `Retry-After` and `Stripe-Should-Retry` to itself, and the gateway's retry loop must honour them
//! (security review L15).

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::future::Future;
use std::sync::PoisonError;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use stripe_client_core::{CustomizedStripeRequest, StripeClient, StripeClientErr, StripeMethod};

/// Waiting for TCP (and TLS) is bounded separately from the whole request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest answer read. Stripe's biggest (a list of 100 objects with expansions) is a few hundred
/// KiB; a body beyond this is refused rather than held in memory (security review 2, L11).
const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

pub struct StripeHttp {
    http: reqwest::Client,
    api_base: String,
    authorization: HeaderValue,
    clock: StripeClock,
}

/// Stripe's clock as its answers' `Date` headers show it: how far it is from ours. Event times
/// (`created`) are Stripe's, so whatever is compared with them must be too (security review 2, L3:
/// the storm short-cut compared them with our clock, and with ours 5 s fast an event that happened
/// just after a read began counted as read).
///
/// Each answer gives an offset that is never more than the true one: `Date` (whole seconds, rounded
/// down) is at most the moment Stripe wrote the answer, which is before it reached us. The largest
/// offset seen within `OFFSET_KEPT_FOR` is the closest of them, so Stripe's time read off this clock
/// lags Stripe's by little more than the network's latency and never leads it, which is what the
/// storm short-cut's one-second margin needs. Older observations are dropped, so that a clock that
/// was stepped back is followed within that time.
#[derive(Debug, Default)]
pub struct StripeClock {
    best: std::sync::Mutex<Option<Observed>>,
    offset_millis: AtomicI64,
}

#[derive(Debug, Clone, Copy)]
struct Observed {
    offset_millis: i64,
    at: std::time::Instant,
}

const OFFSET_KEPT_FOR: Duration = Duration::from_secs(60);

impl StripeClock {
    /// Stripe's time now in whole seconds (ours until Stripe has answered once).
    #[cfg(test)]
    pub fn now(&self) -> i64 {
        self.now_millis().div_euclid(1000)
    }

    /// Stripe's time now in milliseconds since the epoch, never later than Stripe's own once it
    /// has answered.
    pub fn now_millis(&self) -> i64 {
        unix_millis() + self.offset_millis.load(Ordering::Relaxed)
    }

    /// Takes an offset from an answer's `Date` header, if it has a readable one.
    fn observe(&self, date: Option<&str>) {
        let Some(at) = date.and_then(|d| httpdate::parse_http_date(d).ok()) else {
            return;
        };
        let Ok(since_epoch) = at.duration_since(std::time::UNIX_EPOCH) else {
            return;
        };
        let stripe = i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX);
        let seen = Observed {
            offset_millis: stripe.saturating_sub(unix_millis()),
            at: std::time::Instant::now(),
        };
        let mut best = self.best.lock().unwrap_or_else(PoisonError::into_inner);
        let kept = match *best {
            Some(kept)
                if kept.offset_millis >= seen.offset_millis
                    && kept.at.elapsed() < OFFSET_KEPT_FOR =>
            {
                kept
            }
            _ => seen,
        };
        *best = Some(kept);
        self.offset_millis
            .store(kept.offset_millis, Ordering::Relaxed);
    }
}

fn unix_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// One failed attempt, with what Stripe said about retrying it.
#[derive(Debug)]
pub enum CallError {
    Api {
        status: u16,
        message: String,
        code: Option<String>,
        param: Option<String>,
        /// `Retry-After`, in seconds, as Stripe sends it with a 429.
        retry_after: Option<Duration>,
        /// `Stripe-Should-Retry`: Stripe's own verdict, which beats the status code.
        should_retry: Option<bool>,
    },
    Network(String),
    Timeout,
    Decode(String),
}

impl StripeClientErr for CallError {
    fn deserialize_err(msg: impl std::fmt::Display) -> Self {
        CallError::Decode(msg.to_string())
    }
}

impl StripeHttp {
    pub fn new(
        secret_key: &SecretString,
        api_base: &str,
        timeout: Duration,
    ) -> Result<Self, String> {
        let mut authorization =
            HeaderValue::from_str(&format!("Bearer {}", secret_key.expose_secret()))
                .map_err(|_| "the Stripe secret key is not a valid header value".to_owned())?;
        // Keeps the key out of any debug output of the request.
        authorization.set_sensitive(true);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("storefront/", env!("CARGO_PKG_VERSION")))
            // Stripe's API never redirects; following one would send the key elsewhere (review 2, L11).
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            http,
            api_base: api_base.trim_end_matches('/').to_owned(),
            authorization,
            clock: StripeClock::default(),
        })
    }
}

impl StripeHttp {
    /// Stripe's clock, as its answers show it.
    pub fn clock(&self) -> &StripeClock {
        &self.clock
    }
}

impl StripeClient for StripeHttp {
    type Err = CallError;

    fn execute(
        &self,
        request: CustomizedStripeRequest,
    ) -> impl Future<Output = Result<Bytes, CallError>> + Send {
        let (request, overrides) = request.into_pieces();
        let mut url = format!("{}/v1{}", self.api_base, request.path);
        if let Some(query) = &request.query {
            url.push('?');
            url.push_str(query);
        }
        let method = match request.method {
            StripeMethod::Get => reqwest::Method::GET,
            StripeMethod::Post => reqwest::Method::POST,
            StripeMethod::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self
            .http
            .request(method, url)
            .header(AUTHORIZATION, self.authorization.clone())
            .header("stripe-version", stripe_client_core::VERSION.as_str());
        if let Some(key) = overrides.request_strategy.and_then(|s| s.get_key()) {
            builder = builder.header("idempotency-key", key.as_str());
        }
        if let Some(body) = request.body {
            builder = builder
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body);
        }
        async move {
            let response = builder.send().await.map_err(transport_error)?;
            let status = response.status();
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            self.clock.observe(header("date").as_deref());
            let retry_after = header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let should_retry = header("stripe-should-retry").and_then(|v| v.parse::<bool>().ok());
            let body = read_capped(response).await?;
            if status.is_success() {
                return Ok(body);
            }
            let error: Value = serde_json::from_slice(&body).unwrap_or_default();
            let field = |name: &str| {
                error
                    .pointer(&format!("/error/{name}"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            Err(CallError::Api {
                status: status.as_u16(),
                message: field("message").unwrap_or_else(|| status.to_string()),
                code: field("code"),
                param: field("param"),
                retry_after,
                should_retry,
            })
        }
    }
}

/// The body, at most `MAX_RESPONSE_BYTES` of it (a longer one is a decode error: not Stripe's).
async fn read_capped(mut response: reqwest::Response) -> Result<Bytes, CallError> {
    let too_big = || CallError::Decode(format!("a response over {MAX_RESPONSE_BYTES} bytes"));
    if response
        .content_length()
        .is_some_and(|length| length > MAX_RESPONSE_BYTES as u64)
    {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

fn transport_error(error: reqwest::Error) -> CallError {
    if error.is_timeout() {
        CallError::Timeout
    } else {
        CallError::Network(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use axum::routing::get;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use stripe_client_core::RequestBuilder;

    /// An API that misbehaves: a redirect elsewhere (which records whether it was followed) and a body
    /// one byte over the cap.
    async fn misbehaving_api(followed: Arc<AtomicBool>) -> String {
        let app = axum::Router::new()
            .route(
                "/v1/redirect",
                get(|| async {
                    (
                        StatusCode::TEMPORARY_REDIRECT,
                        [("location", "/v1/elsewhere")],
                    )
                }),
            )
            .route(
                "/v1/elsewhere",
                get(move || {
                    followed.store(true, Ordering::SeqCst);
                    async { "{}" }
                }),
            )
            .route(
                "/v1/huge",
                get(|| async { vec![b' '; MAX_RESPONSE_BYTES + 1] }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}")
    }

    async fn call(http: &StripeHttp, path: &str) -> Result<(), CallError> {
        RequestBuilder::new(StripeMethod::Get, path)
            .customize::<stripe_shared::Customer>()
            .send(http)
            .await
            .map(|_| ())
    }

    /// Security review 2, L3: Stripe's time is read from its `Date` headers, 30 s behind ours here.
    #[test]
    fn l3_stripes_clock_follows_its_date_header() {
        let clock = StripeClock::default();
        let ours = crate::db::now_unix();
        assert!((clock.now() - ours).abs() <= 1, "ours until Stripe answers");
        let behind = std::time::UNIX_EPOCH + Duration::from_secs((ours - 30) as u64);
        clock.observe(Some(&httpdate::fmt_http_date(behind)));
        assert!(
            (clock.now() - (ours - 30)).abs() <= 1,
            "{} vs {}",
            clock.now(),
            ours - 30
        );
        clock.observe(Some("not a date"));
        assert!(
            (clock.now() - (ours - 30)).abs() <= 1,
            "an unreadable Date changes nothing"
        );
    }

    /// Issue 20: the storm short-cut's one-second margin needs Stripe's time as read off the clock
    /// never to be later than Stripe's (a `Date` is rounded down: the clock may lag, never lead),
    /// and answers over a second bring the lag down to about the time between two of them.
    #[test]
    fn stripes_clock_never_reads_later_than_stripe_and_closes_in() {
        let clock = StripeClock::default();
        let stripe_millis = || {
            let stripe = std::time::SystemTime::now() + Duration::from_secs(7);
            let since = stripe
                .duration_since(std::time::UNIX_EPOCH)
                .expect("after 1970");
            i64::try_from(since.as_millis()).expect("fits")
        };
        let mut lag = i64::MAX;
        for _ in 0..50 {
            let stripe_now = std::time::SystemTime::now() + Duration::from_secs(7);
            clock.observe(Some(&httpdate::fmt_http_date(stripe_now)));
            let read = clock.now_millis();
            let truth = stripe_millis();
            assert!(read <= truth, "{read} is later than Stripe's {truth}");
            lag = truth - read;
            assert!(lag < 1100, "lags by less than the Date's second");
            std::thread::sleep(Duration::from_millis(23));
        }
        assert!(lag < 100, "still {lag} ms behind after a second of answers");
    }

    /// Security review 2, L11: the client followed redirects (with the key) and read any body whole.
    #[tokio::test]
    async fn l11_the_stripe_client_follows_no_redirect_and_caps_the_body() {
        let followed = Arc::new(AtomicBool::new(false));
        let base = misbehaving_api(followed.clone()).await;
        let key = SecretString::from("sk_test_cap");
        let http = StripeHttp::new(&key, &base, Duration::from_secs(5)).expect("client");
        let redirected = call(&http, "/redirect").await;
        assert!(
            matches!(redirected, Err(CallError::Api { status: 307, .. })),
            "{redirected:?}"
        );
        assert!(
            !followed.load(Ordering::SeqCst),
            "the redirect was not followed"
        );
        let huge = call(&http, "/huge").await;
        assert!(matches!(huge, Err(CallError::Decode(_))), "{huge:?}");
    }
}
