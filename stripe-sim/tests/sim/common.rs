//! Shared test helpers: a sim on a random port, the real async-stripe client, a webhook
//! receiver that verifies signatures with async-stripe, and hosted-page form posts.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use stripe_sim::{Sim, SimConfig};

pub const SECRET: &str = "whsec_test_0123456789abcdef";
pub const KEY: &str = "sk_test_sim123";

/// Every test body runs under this bound so a hang fails instead of blocking CI.
pub async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("test timed out")
}

pub fn config() -> SimConfig {
    SimConfig {
        webhook_retry_base: Duration::from_millis(20),
        webhook_timeout: Duration::from_secs(2),
        ..SimConfig::default()
    }
}

pub async fn sim() -> Sim {
    Sim::start(config()).await.expect("sim starts")
}

pub fn client(sim: &Sim) -> stripe::Client {
    stripe::ClientBuilder::new(KEY)
        .url(sim.base_url())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// Plain HTTP client that does not follow redirects (to assert on 303s).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client")
}

#[derive(Debug, Clone)]
pub struct Received {
    pub raw: serde_json::Value,
    pub event: stripe_webhook::Event,
}

#[derive(Clone, Default)]
pub struct Inbox {
    pub events: Arc<Mutex<Vec<Received>>>,
    pub rejected: Arc<Mutex<Vec<String>>>,
    /// Answer the next N deliveries with 500 (to test retries through a real failure).
    pub fail_next: Arc<Mutex<usize>>,
    /// Hold the next N responses for `delay` (to test the delivery timeout).
    pub delay_next: Arc<Mutex<usize>>,
    pub delay: Arc<Mutex<Duration>>,
    /// Secret used to verify signatures (an endpoint created over the API gets its own).
    pub secret: Arc<Mutex<String>>,
}

impl Inbox {
    pub fn received(&self) -> Vec<Received> {
        self.events.lock().expect("lock").clone()
    }
    pub fn types(&self) -> Vec<String> {
        self.received()
            .iter()
            .map(|r| r.event.type_.as_str().to_owned())
            .collect()
    }
    pub fn ids(&self) -> Vec<String> {
        self.received()
            .iter()
            .map(|r| r.event.id.as_str().to_owned())
            .collect()
    }
    pub async fn wait_for(&self, what: &str, mut cond: impl FnMut(&[Received]) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            if cond(&self.received()) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; got {:?}",
                self.types()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    pub async fn wait_for_type(&self, kind: &str) -> Received {
        self.wait_for(kind, |r| r.iter().any(|e| e.event.type_.as_str() == kind))
            .await;
        self.received()
            .into_iter()
            .find(|e| e.event.type_.as_str() == kind)
            .expect("present")
    }
}

async fn receive(State(inbox): State<Inbox>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let delay = {
        let mut n = inbox.delay_next.lock().expect("lock");
        if *n > 0 {
            *n -= 1;
            *inbox.delay.lock().expect("lock")
        } else {
            Duration::ZERO
        }
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    {
        let mut fail = inbox.fail_next.lock().expect("lock");
        if *fail > 0 {
            *fail -= 1;
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    let sig = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let payload = String::from_utf8_lossy(&body).into_owned();
    let secret = inbox.secret.lock().expect("lock").clone();
    match stripe_webhook::Webhook::construct_event(&payload, sig, &secret) {
        Ok(event) => {
            let raw = serde_json::from_str(&payload).expect("json");
            inbox
                .events
                .lock()
                .expect("lock")
                .push(Received { raw, event });
            StatusCode::OK
        }
        Err(e) => {
            inbox
                .rejected
                .lock()
                .expect("lock")
                .push(format!("{e:?}: {payload}"));
            StatusCode::BAD_REQUEST
        }
    }
}

/// A webhook receiver on 127.0.0.1:0; returns its URL and inbox.
pub async fn receiver() -> (String, Inbox) {
    let inbox = Inbox {
        secret: Arc::new(Mutex::new(SECRET.to_owned())),
        ..Inbox::default()
    };
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), inbox)
}

/// `product.created`/`price.created` events of the built-in catalog: 6 products, 8 prices.
pub const SEED_EVENTS: usize = 16;

/// A sim with a webhook endpoint pointing at a fresh receiver; waits for the seed catalog's
/// events so tests start from a quiet queue.
pub async fn sim_with_hook() -> (Sim, Inbox) {
    sim_with_hook_config(config()).await
}

pub async fn sim_with_hook_config(cfg: SimConfig) -> (Sim, Inbox) {
    let (url, inbox) = receiver().await;
    let sim = Sim::start(SimConfig {
        webhook_url: Some(url),
        webhook_secret: Some(SECRET.to_owned()),
        ..cfg
    })
    .await
    .expect("sim starts");
    inbox
        .wait_for("seed catalog events", |r| r.len() >= SEED_EVENTS)
        .await;
    assert!(sim.wait_for_deliveries(Duration::from_secs(10)).await);
    (sim, inbox)
}

pub async fn customer(client: &stripe::Client, email: &str) -> stripe_shared::Customer {
    stripe_core::customer::CreateCustomer::new()
        .email(email)
        .send(client)
        .await
        .expect("customer")
}

/// Creates a subscription-mode Checkout Session for `lookup_key`.
pub async fn session(
    sim: &Sim,
    client: &stripe::Client,
    customer: Option<&str>,
    lookup_key: &str,
    trial: Option<u32>,
) -> stripe_shared::CheckoutSession {
    use stripe_checkout::checkout_session::*;
    let price = sim.price_id(lookup_key).expect("seeded price");
    let mut item = CreateCheckoutSessionLineItems::new();
    item.price = Some(price);
    item.quantity = Some(1);
    let mut req = CreateCheckoutSession::new()
        .mode(stripe_shared::CheckoutSessionMode::Subscription)
        .line_items(vec![item])
        .success_url("http://app.test/billing/success?session_id={CHECKOUT_SESSION_ID}")
        .cancel_url("http://app.test/pricing")
        .client_reference_id("42")
        .metadata(
            [("user_id".to_owned(), "42".to_owned())]
                .into_iter()
                .collect::<std::collections::HashMap<_, _>>(),
        );
    if let Some(c) = customer {
        req = req.customer(c);
    }
    if let Some(days) = trial {
        let mut sd = CreateCheckoutSessionSubscriptionData::new();
        sd.trial_period_days = Some(days);
        req = req.subscription_data(sd);
    }
    req.send(client).await.expect("session")
}

/// Posts the hosted checkout form.
pub async fn pay(http: &reqwest::Client, session_url: &str, card: &str) -> reqwest::Response {
    http.post(format!("{session_url}/pay"))
        .form(&[
            ("email", "buyer@example.com"),
            ("card_number", card),
            ("exp", "12 / 34"),
            ("cvc", "123"),
            ("name", "Test Buyer"),
        ])
        .send()
        .await
        .expect("post")
}

/// Customer + subscription paid on the hosted page with `card`; returns (customer id,
/// subscription id).
pub async fn subscribe(
    sim: &Sim,
    client: &stripe::Client,
    lookup_key: &str,
    card: &str,
    trial: Option<u32>,
) -> (String, String) {
    let cus = customer(client, "sub@example.com").await;
    let s = session(sim, client, Some(cus.id.as_str()), lookup_key, trial).await;
    let url = s.url.clone().expect("url");
    let resp = pay(&http(), &url, card).await;
    assert_eq!(resp.status(), 303, "payment should redirect");
    let done = stripe_checkout::checkout_session::RetrieveCheckoutSession::new(s.id.clone())
        .send(client)
        .await
        .expect("retrieve");
    let sub = done
        .subscription
        .expect("subscription")
        .id()
        .as_str()
        .to_owned();
    (cus.id.as_str().to_owned(), sub)
}

/// `GET {base}{path}` on the API (Bearer key), asserting a 2xx; the JSON body.
/// `POST {base}{path}` on the API as a form: the status and the JSON body (errors too).
pub async fn api_form(base: &str, path: &str, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let response = http()
        .post(format!("{base}{path}"))
        .bearer_auth(KEY)
        .form(form)
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

pub async fn api_get(http: &reqwest::Client, base: &str, path: &str) -> serde_json::Value {
    let resp = http
        .get(format!("{base}{path}"))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("get");
    assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
    resp.json().await.expect("json")
}

pub async fn retrieve_subscription(
    client: &stripe::Client,
    id: &str,
) -> stripe_shared::Subscription {
    stripe_billing::subscription::RetrieveSubscription::new(id)
        .send(client)
        .await
        .expect("sub")
}

/// The subscription's invoices, newest first.
pub async fn invoices(client: &stripe::Client, subscription: &str) -> Vec<stripe_shared::Invoice> {
    stripe_billing::invoice::ListInvoice::new()
        .subscription(subscription)
        .limit(100)
        .send(client)
        .await
        .expect("invoices")
        .data
}

/// A product with one one-time price.
pub async fn one_time_price(
    client: &stripe::Client,
    product: &str,
    currency: stripe_types::Currency,
    unit_amount: i64,
) -> stripe_shared::Price {
    let product = stripe_product::product::CreateProduct::new(product)
        .send(client)
        .await
        .expect("product");
    stripe_product::price::CreatePrice::new(currency)
        .product(product.id.as_str())
        .unit_amount(unit_amount)
        .send(client)
        .await
        .expect("price")
}

pub async fn text(resp: reqwest::Response) -> String {
    resp.text().await.expect("body")
}

pub fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("location")
        .to_owned()
}
