//! Browsing the goods and the cart: plain forms (no JavaScript), the script answer, bounds, and the
//! cart following the visitor into sign-in.

use crate::helpers::{PASSWORD, TestApp, cart_count, eventually, form_error, location, set_stock};

#[tokio::test]
async fn the_shop_lists_goods_with_their_stock_and_pages() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let browser = app.browser();
    let shop = app.page(&browser, "/shop").await;
    for name in ["Storefront mug", "Sticker pack", "Hoodie", "Signed poster"] {
        assert!(shop.contains(name), "{name} is listed");
    }
    assert!(
        shop.contains("$14"),
        "prices formatted like the pricing page"
    );
    assert!(
        shop.contains("Only 1 left"),
        "the poster's stock of 1 shows"
    );
    assert!(!shop.contains("data-testid=\"sold-out\""));

    // An operator's SQL: the cached shop page learns it from the stock trigger, within the poll.
    set_stock(&app, "poster", 0).await;
    eventually(
        std::time::Duration::from_secs(3),
        "sold out once none is left",
        || async {
            app.page(&browser, "/shop")
                .await
                .contains("data-testid=\"sold-out\"")
        },
    )
    .await;

    let mug = app.page(&browser, "/shop/mug").await;
    assert!(mug.contains("Stoneware, 350 ml"), "the description");
    assert!(
        mug.contains("src=\"/goods/mug.svg\""),
        "the image from public/"
    );
    assert!(mug.contains("name=\"quantity\""), "a quantity to choose");
    let missing = app.get(&browser, "/shop/no-such-thing").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        app.stock_of("mug").await,
        (25, 0),
        "stock seeded from the product's metadata"
    );
}

#[tokio::test]
async fn the_cart_works_without_javascript_and_follows_sign_in() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let browser = app.browser();
    let added = app.add_to_cart(&browser, "goods_mug", 2).await;
    assert_eq!(added.status(), 303, "a browser goes on to the cart");
    assert_eq!(location(&added), "/cart");
    app.add_to_cart(&browser, "goods_stickers", 1).await;
    let cart = app.page(&browser, "/cart").await;
    assert_eq!(cart_count(&cart), Some(3), "the header counts items");
    assert!(cart.contains("Storefront mug") && cart.contains("Sticker pack"));
    assert!(cart.contains("$33"), "total 2 × $14 + $5: {cart}");

    // Quantity change, then removal with 0.
    let mug = app.price_id("goods_mug");
    let stickers = app.price_id("goods_stickers");
    app.post_form(
        &browser,
        "/api/cart_update",
        "/cart",
        &[("price_id", &mug), ("quantity", "3")],
    )
    .await;
    app.post_form(
        &browser,
        "/api/cart_update",
        "/cart",
        &[("price_id", &stickers), ("quantity", "0")],
    )
    .await;
    let cart = app.page(&browser, "/cart").await;
    assert_eq!(cart_count(&cart), Some(3));
    assert!(!cart.contains("Sticker pack"), "removed");

    // Sign up: the same session, under a new id, keeps the cart.
    app.sign_up(&browser, "shopper@example.com", PASSWORD).await;
    let cart = app.page(&browser, "/cart").await;
    assert_eq!(cart_count(&cart), Some(3), "the cart followed the visitor");
    assert!(cart.contains("Storefront mug"));

    app.post_form(&browser, "/api/cart_clear", "/cart", &[])
        .await;
    let cart = app.page(&browser, "/cart").await;
    assert!(cart.contains("data-testid=\"cart-empty\""));
    assert_eq!(cart_count(&cart), Some(0));
}

#[tokio::test]
async fn bad_cart_input_is_refused_with_a_clear_message() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let browser = app.browser();
    let refused = app
        .post_form(
            &browser,
            "/api/cart_add",
            "/shop",
            &[("price_id", "price_nope"), ("quantity", "1")],
        )
        .await;
    assert!(refused.status().is_redirection(), "{}", refused.status());
    let back = location(&refused);
    assert_eq!(
        form_error(&back).as_deref(),
        Some("That item is not on sale.")
    );
    let page = app.page(&browser, &back.replace(&app.base, "")).await;
    assert!(
        page.contains("That item is not on sale."),
        "shown on the page"
    );

    // A subscription price is not a good.
    let plan = app.price_id("basic_monthly");
    let script = app
        .post_script(&browser, "/api/cart_add", &[("price_id", &plan)])
        .await;
    assert_eq!(script.status(), 422);
    for quantity in ["0", "11", "-2", "lots"] {
        let response = app.add_to_cart_raw(&browser, "goods_mug", quantity).await;
        assert_eq!(response.status(), 422, "quantity {quantity:?}");
    }
    // More than there is.
    let poster = app.price_id("goods_poster");
    let too_many = app
        .post_script(
            &browser,
            "/api/cart_add",
            &[("price_id", &poster), ("quantity", "2")],
        )
        .await;
    assert_eq!(too_many.status(), 409);
    assert!(
        too_many
            .text()
            .await
            .expect("body")
            .contains("Sorry, only 1 left.")
    );
    let cart = app.page(&browser, "/cart").await;
    assert!(
        cart.contains("data-testid=\"cart-empty\""),
        "nothing was added"
    );
}

#[tokio::test]
async fn a_script_gets_the_new_count_and_cached_pages_never_show_another_cart() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let buyer = app.new_user("counter@example.com").await;
    let mug = app.price_id("goods_mug");
    let first = app
        .post_script(
            &buyer,
            "/api/cart_add",
            &[("price_id", &mug), ("quantity", "2")],
        )
        .await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.text().await.expect("body").trim(), "2");
    // The signed-in pages (cached per user) follow the cart.
    assert_eq!(cart_count(&app.page(&buyer, "/pricing").await), Some(2));
    assert_eq!(cart_count(&app.page(&buyer, "/dashboard").await), Some(2));
    let second = app
        .post_script(&buyer, "/api/cart_add", &[("price_id", &mug)])
        .await;
    assert_eq!(second.text().await.expect("body").trim(), "3");
    assert_eq!(cart_count(&app.page(&buyer, "/pricing").await), Some(3));
    // An anonymous visitor's cached page has no cart.
    assert_eq!(
        cart_count(&app.page(&app.browser(), "/pricing").await),
        Some(0)
    );
}

impl TestApp {
    async fn add_to_cart_raw(
        &self,
        browser: &reqwest::Client,
        lookup_key: &str,
        quantity: &str,
    ) -> reqwest::Response {
        let price = self.price_id(lookup_key);
        self.post_script(
            browser,
            "/api/cart_add",
            &[("price_id", &price), ("quantity", quantity)],
        )
        .await
    }
}
