//! Domain steps, as a user, Stripe or an operator takes them: sign up, check out, pay, use the
//! portal, and read back what the app stored.

use super::{
    BROWSER_ACCEPT, PASSWORD, STRIPE_SECRET_KEY, TestApp, location, no_redirects, run_storefront,
    session_cookie,
};
use secrecy::ExposeSecret;
use std::time::Duration;
use storefront::CustomerId;

impl TestApp {
    /// Creates an account and leaves `client` signed in: sign-up answers "check your inbox" for any
    /// address (issue 21), and an unverified account may sign in with its password.
    pub async fn sign_up(&self, client: &reqwest::Client, email: &str, password: &str) {
        let response = self
            .post_form(
                client,
                "/api/signup",
                "/signup",
                &[("email", email), ("password", password)],
            )
            .await;
        assert_eq!(response.status(), 303, "sign-up should redirect");
        assert_eq!(location(&response), "/signup/check-email?next=/dashboard");
        assert_eq!(session_cookie(&response), None, "sign-up signs nobody in");
        self.sign_in(client, email, password).await;
    }

    /// Signs `client` in with the password.
    pub async fn sign_in(&self, client: &reqwest::Client, email: &str, password: &str) {
        let response = self
            .post_form(
                client,
                "/api/login",
                "/login",
                &[("email", email), ("password", password)],
            )
            .await;
        assert_eq!(response.status(), 302, "sign-in should redirect");
        assert_eq!(location(&response), "/dashboard");
    }

    /// Creates an account, signing nobody in.
    pub async fn create_account(&self, email: &str) {
        let response = self
            .post_form(
                &self.browser(),
                "/api/signup",
                "/signup",
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(response.status(), 303, "sign-up should redirect");
    }

    /// A signed-in browser for a new account.
    pub async fn new_user(&self, email: &str) -> reqwest::Client {
        let browser = self.browser();
        self.sign_up(&browser, email, PASSWORD).await;
        browser
    }

    /// The sim's price id for a catalog lookup key such as `pro_monthly`.
    pub fn price_id(&self, lookup_key: &str) -> String {
        self.sim
            .price_id(lookup_key)
            .unwrap_or_else(|| panic!("no price {lookup_key} in the sim catalog"))
    }

    /// Posts the pricing page's Subscribe form for `lookup_key`, as a browser does.
    pub async fn request_checkout(
        &self,
        browser: &reqwest::Client,
        lookup_key: &str,
    ) -> reqwest::Response {
        let price = self.price_id(lookup_key);
        self.post_form(
            browser,
            "/api/start_checkout",
            "/pricing",
            &[("price_id", price.as_str())],
        )
        .await
    }

    /// Posts the pricing page's Subscribe form; returns the Checkout Session id the app sent us to.
    pub async fn start_checkout(&self, browser: &reqwest::Client, lookup_key: &str) -> String {
        let response = self.request_checkout(browser, lookup_key).await;
        assert_eq!(response.status(), 303, "checkout answers 303");
        let to = location(&response);
        let prefix = self.stripe_url("/checkout/");
        to.strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("not a sim checkout URL: {to}"))
            .to_owned()
    }

    /// Pays a session as the hosted page does and returns the success URL it redirects to.
    pub fn pay(&self, session_id: &str, card: &str) -> String {
        // A buyer of goods sent by post fills the shipping step first (a US address, the first rate).
        if self.sim.act().asks_for_shipping(session_id) {
            let address = stripe_sim::ShippingChoice {
                name: "Test Buyer".into(),
                line1: "1 Main St".into(),
                city: "Springfield".into(),
                postal_code: "62701".into(),
                country: "US".into(),
                ..Default::default()
            };
            self.sim
                .act()
                .choose_shipping(session_id, &address)
                .expect("shipping step");
        }
        match self
            .sim
            .act()
            .pay_checkout(session_id, None, card)
            .expect("payment accepted")
        {
            stripe_sim::PayOutcome::Redirect(url) => url,
            other => panic!("unexpected payment outcome {other:?}"),
        }
    }

    /// Subscribes a new user to `lookup_key` with `card`, without visiting the success page.
    pub async fn subscriber(&self, email: &str, lookup_key: &str, card: &str) -> reqwest::Client {
        let browser = self.new_user(email).await;
        let session = self.start_checkout(&browser, lookup_key).await;
        self.pay(&session, card);
        browser
    }

    /// Whether `url` is a page of the sim's hosted billing portal.
    pub fn is_portal_url(&self, url: &str) -> bool {
        url.starts_with(&self.stripe_url("/portal/"))
    }

    /// Posts the dashboard's "Manage billing" form; returns the portal URL the app sent us to.
    pub async fn open_portal(&self, browser: &reqwest::Client) -> String {
        let response = self
            .post_form(browser, "/api/open_billing_portal", "/dashboard", &[])
            .await;
        assert_eq!(response.status(), 303);
        let url = location(&response);
        assert!(self.is_portal_url(&url), "{url}");
        url
    }

    pub async fn settle_webhooks(&self) {
        assert!(
            self.sim.wait_for_deliveries(Duration::from_secs(20)).await,
            "webhooks settle in time"
        );
    }

    pub async fn role_of(&self, email: &str) -> String {
        sqlx::query_scalar::<_, String>("SELECT role FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&self.state.db.pool)
            .await
            .expect("user exists")
    }

    /// The Stripe customer id stored for a user.
    pub async fn customer_of(&self, email: &str) -> String {
        sqlx::query_scalar::<_, String>("SELECT stripe_customer_id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&self.state.db.pool)
            .await
            .expect("customer")
    }

    /// The user's newest subscription as the app stored it.
    pub async fn subscription_of(&self, email: &str) -> String {
        sqlx::query_scalar::<_, String>(
            "SELECT s.id FROM subscriptions s JOIN users u ON u.id = s.user_id WHERE u.email = $1 ORDER BY s.created DESC",
        )
        .bind(email)
        .fetch_one(&self.state.db.pool)
        .await
        .expect("subscription synced")
    }

    /// The user's subscription, synced from Stripe first: for when webhooks are held back and the
    /// checkout's own sync may not have run yet.
    pub async fn synced_subscription_of(&self, email: &str) -> String {
        let customer = self.customer_of(email).await;
        self.billing
            .sync_customer(&CustomerId::from(customer.as_str()), None)
            .await
            .expect("sync");
        self.subscription_of(email).await
    }

    /// Runs the `storefront` binary with `args` against this app's database and sim, as an operator
    /// would.
    pub async fn run_cli(&self, args: &[&str]) -> std::process::Output {
        let database_url = self.state.config.database_url.expose_secret().to_owned();
        let api_base = self.sim.base_url().to_owned();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_storefront(
                &args,
                &[
                    ("DATABASE_URL", database_url.as_str()),
                    ("STRIPE_SECRET_KEY", STRIPE_SECRET_KEY),
                    ("STRIPE_API_BASE", api_base.as_str()),
                    ("RUST_LOG", "warn"),
                    // Commands send no mail (serving instances send what they queue).
                    ("MAIL_DISABLED", "1"),
                ],
            )
        })
        .await
        .expect("join")
    }

    /// A request to the sim's Stripe API, authenticated with the app's secret key.
    pub fn stripe_api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .request(method, self.stripe_url(path))
            .bearer_auth(STRIPE_SECRET_KEY)
    }

    /// GETs a Stripe API object from the sim as JSON.
    pub async fn stripe_get(&self, path: &str) -> serde_json::Value {
        self.stripe_api(reqwest::Method::GET, path)
            .send()
            .await
            .expect("Stripe API request")
            .json()
            .await
            .expect("json")
    }
}

/// Switches `subscription` to `price_id` on the sim's hosted portal page.
pub async fn portal_switch(portal_url: &str, subscription: &str, price_id: &str) {
    portal_action(
        portal_url,
        "switch",
        &[("subscription", subscription), ("price", price_id)],
    )
    .await;
}

/// Cancels `subscription` at period end on the sim's hosted portal page.
pub async fn portal_cancel(portal_url: &str, subscription: &str) {
    portal_action(portal_url, "cancel", &[("subscription", subscription)]).await;
}

/// Posts a form of the sim's hosted portal page, as the customer's browser would; asserts it worked.
async fn portal_action(portal_url: &str, action: &str, form: &[(&str, &str)]) {
    let response = no_redirects()
        .build()
        .expect("client")
        .post(format!("{portal_url}/{action}"))
        .form(form)
        .send()
        .await
        .expect("portal request");
    assert!(
        response.status().is_redirection() || response.status().is_success(),
        "portal {action}: {}",
        response.status()
    );
}

/// A signed-in session cookie (`name=value`) for a new account `email`.
/// Signs in on `app` and returns the session cookie (`name=value`) to replay on any instance.
pub async fn signed_in_cookie(app: &TestApp, email: &str) -> String {
    app.create_account(email).await;
    let response = app
        .post_form(
            &app.browser(),
            "/api/login",
            "/login",
            &[("email", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), 302);
    let cookie = session_cookie(&response).expect("a session cookie");
    cookie.split(';').next().expect("name=value").to_owned()
}

/// Whether `cookie` is a signed-in session on `app`, as its dashboard shows.
pub async fn signed_in_on(app: &TestApp, cookie: &str, email: &str) -> bool {
    let response = no_redirects()
        .build()
        .expect("client")
        .get(app.url("/dashboard"))
        .header("cookie", cookie)
        .header("accept", BROWSER_ACCEPT)
        .send()
        .await
        .expect("request");
    response.status() == 200 && response.text().await.expect("body").contains(email)
}
