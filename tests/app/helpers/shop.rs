//! Shop steps: fill a cart, check it out, and read back orders and stock.

use super::{TestApp, location};

/// An order as stored: id, status, and the Checkout Session it was sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOrder {
    pub id: i64,
    pub status: String,
    pub checkout_session_id: Option<String>,
    pub payment_intent_id: Option<String>,
}

/// What `/api/pay_cart` answers the pay page.
#[derive(Debug, Clone)]
pub struct PayAnswer {
    pub order_id: i64,
    pub client_secret: String,
    pub publishable_key: String,
}

impl PayAnswer {
    /// The PaymentIntent's id: the client secret is `{id}_secret_{…}`.
    pub fn intent(&self) -> &str {
        self.client_secret
            .split_once("_secret_")
            .map_or(self.client_secret.as_str(), |(id, _)| id)
    }
}

/// A delivery address for `/shop/pay`'s form.
pub const US_ADDRESS: &[(&str, &str)] = &[
    ("name", "Test Buyer"),
    ("line1", "1 Main St"),
    ("city", "Springfield"),
    ("postal_code", "62701"),
    ("country", "US"),
];

impl TestApp {
    /// Posts an add-to-cart form for the good sold at `lookup_key` (e.g. `goods_mug`), as a browser
    /// without JavaScript does, from that good's page.
    pub async fn add_to_cart(
        &self,
        browser: &reqwest::Client,
        lookup_key: &str,
        quantity: u32,
    ) -> reqwest::Response {
        let price = self.price_id(lookup_key);
        let quantity = quantity.to_string();
        self.post_form(
            browser,
            "/api/cart_add",
            "/shop",
            &[
                ("price_id", price.as_str()),
                ("quantity", quantity.as_str()),
            ],
        )
        .await
    }

    /// Posts "Check out" from the cart page.
    pub async fn checkout_cart(&self, browser: &reqwest::Client) -> reqwest::Response {
        self.post_form(browser, "/api/checkout_cart", "/cart", &[])
            .await
    }

    /// A signed-in browser for a new account whose requests come through a trusted proxy from
    /// `client_ip` (the app must trust 127.0.0.0/8), so many buyers do not share one address's
    /// sign-up limit.
    pub async fn new_user_from(&self, email: &str, client_ip: &str) -> reqwest::Client {
        let browser = self.browser();
        let public = self.state.config.app_origin();
        for (path, expected) in [
            ("/api/signup", "/signup/check-email?next=/dashboard"),
            ("/api/login", "/dashboard"),
        ] {
            let response = browser
                .post(self.url(path))
                .header("accept", super::BROWSER_ACCEPT)
                .header("origin", &public)
                .header("x-forwarded-for", client_ip)
                .form(&[("email", email), ("password", super::PASSWORD)])
                .send()
                .await
                .expect("request");
            assert_eq!(location(&response), expected, "{path}");
        }
        browser
    }

    /// Fills the cart with `lines` and checks out; returns the Checkout Session id.
    pub async fn buy(&self, browser: &reqwest::Client, lines: &[(&str, u32)]) -> String {
        for (lookup_key, quantity) in lines {
            let added = self.add_to_cart(browser, lookup_key, *quantity).await;
            assert_eq!(location(&added), "/cart", "{lookup_key} added");
        }
        let response = self.checkout_cart(browser).await;
        assert_eq!(
            response.status(),
            303,
            "checkout answers 303: {}",
            location(&response)
        );
        self.session_of_checkout_url(&location(&response))
    }

    /// The Checkout Session id of a sim Checkout URL.
    pub fn session_of_checkout_url(&self, url: &str) -> String {
        url.strip_prefix(&self.stripe_url("/checkout/"))
            .unwrap_or_else(|| panic!("not a sim checkout URL: {url}"))
            .to_owned()
    }

    pub async fn order_of_session(&self, session_id: &str) -> StoredOrder {
        let id =
            sqlx::query_scalar::<_, i64>("SELECT id FROM orders WHERE checkout_session_id = $1")
                .bind(session_id)
                .fetch_one(&self.state.db.pool)
                .await
                .expect("an order for the session");
        self.order(id).await
    }

    /// Fills the cart with `lines`, as a browser without JavaScript does.
    pub async fn fill_cart(&self, browser: &reqwest::Client, lines: &[(&str, u32)]) {
        for (lookup_key, quantity) in lines {
            let added = self.add_to_cart(browser, lookup_key, *quantity).await;
            assert_eq!(location(&added), "/cart", "{lookup_key} added");
        }
    }

    /// `POST /api/pay_cart` as the pay page's island sends it (a script): with the cart version
    /// `/shop/pay` shows now, unless `extra` names one, and any other fields a tampering client
    /// might add.
    pub async fn pay_cart(
        &self,
        browser: &reqwest::Client,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut fields: Vec<(&str, String)> =
            extra.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        if !extra.iter().any(|(key, _)| *key == "cart_version") {
            fields.push(("cart_version", self.shown_cart_version(browser).await));
        }
        browser
            .post(self.url("/api/pay_cart"))
            .header("accept", "application/json")
            .header("origin", self.state.config.app_origin())
            .form(&fields)
            .send()
            .await
            .expect("request")
    }

    /// Enters `fields` in `/shop/pay`'s delivery form, as a browser without JavaScript does.
    pub async fn pay_details(
        &self,
        browser: &reqwest::Client,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        self.post_form(browser, "/api/pay_details", "/shop/pay", fields)
            .await
    }

    /// The cart version `/shop/pay` gives its island (empty when the page shows no card field).
    /// A page that first asks where to send the goods gets a US address, as a buyer would enter.
    pub async fn shown_cart_version(&self, browser: &reqwest::Client) -> String {
        let mut page = self.page(browser, "/shop/pay").await;
        if page.contains("data-testid=\"pay-address-needed\"") {
            let entered = self.pay_details(browser, US_ADDRESS).await;
            assert_eq!(location(&entered), "/shop/pay", "address taken");
            page = self.page(browser, "/shop/pay").await;
        }
        page.split_once("data-cart-version=\"")
            .and_then(|(_, rest)| rest.split('"').next())
            .unwrap_or_default()
            .to_owned()
    }

    /// `pay_cart`'s answer, which must be a success.
    pub async fn pay_answer(&self, browser: &reqwest::Client) -> PayAnswer {
        let response = self.pay_cart(browser, &[]).await;
        let status = response.status();
        let body = response.text().await.expect("body");
        assert_eq!(status, 200, "pay_cart: {body}");
        let json: serde_json::Value = serde_json::from_str(&body).expect("json");
        PayAnswer {
            order_id: json["order_id"].as_i64().expect("order_id"),
            client_secret: json["client_secret"]
                .as_str()
                .expect("client_secret")
                .to_owned(),
            publishable_key: json["publishable_key"]
                .as_str()
                .expect("publishable_key")
                .to_owned(),
        }
    }

    /// The stored order `id`.
    pub async fn order(&self, id: i64) -> StoredOrder {
        let (id, status, checkout_session_id, payment_intent_id) = sqlx::query_as::<
            _,
            (i64, String, Option<String>, Option<String>),
        >(
            "SELECT id, status, checkout_session_id, payment_intent_id FROM orders WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&self.state.db.pool)
        .await
        .expect("the order");
        StoredOrder {
            id,
            status,
            checkout_session_id,
            payment_intent_id,
        }
    }

    /// (on hand, reserved) of a good's price: `slug` names its default price (the seed catalog's
    /// lookup key `goods_{slug}`, the hoodie's size M), a `goods_…` lookup key any option.
    pub async fn stock_of(&self, slug: &str) -> (i64, i64) {
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT stock_on_hand, stock_reserved FROM prices WHERE lookup_key = $1",
        )
        .bind(lookup_key_of(slug))
        .fetch_one(&self.state.db.pool)
        .await
        .expect("a good with that slug")
    }
}

/// `goods_mug` for `mug`; a lookup key as it is.
pub fn lookup_key_of(slug: &str) -> String {
    if slug.starts_with("goods_") {
        slug.to_owned()
    } else {
        format!("goods_{slug}")
    }
}

/// Sets the stock of a good (an operator's count after a delivery).
pub async fn set_stock(app: &TestApp, slug: &str, on_hand: i64) {
    sqlx::query("UPDATE prices SET stock_on_hand = $1 WHERE lookup_key = $2")
        .bind(on_hand)
        .bind(lookup_key_of(slug))
        .execute(&app.state.db.pool)
        .await
        .expect("stock set");
}
