//! Issue 22: a good with options. The seed catalog's hoodie comes in S (3 left), M (10) and L (sold
//! out), each its own Stripe price with its own stock.

use crate::helpers::{CARD_OK, TestApp, form_error, location};

#[tokio::test]
async fn the_hoodie_page_offers_each_size_and_refuses_the_sold_out_one() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let visitor = app.browser();
    let page = app.page(&visitor, "/shop/hoodie").await;
    assert!(page.contains("<legend>Size</legend>"), "a size picker");
    for size in ["S", "M", "L"] {
        let price = app.price_id(&format!(
            "goods_hoodie{}",
            match size {
                "M" => String::new(),
                other => format!("_{}", other.to_lowercase()),
            }
        ));
        assert!(page.contains(&price), "size {size} offered");
    }
    let large = app.price_id("goods_hoodie_l");
    let large_input = page
        .split("<input")
        .find(|i| i.contains(&large))
        .unwrap_or_default();
    assert!(large_input.contains("disabled"), "L is shown, sold out");
    assert!(page.contains("(sold out)") && page.contains("(only 3 left)"));
    let shop = app.page(&visitor, "/shop").await;
    assert!(
        shop.contains("Choose a size"),
        "the list sends buyers to the sizes"
    );

    let buyer = app.new_user("large@example.com").await;
    let refused = app.add_to_cart(&buyer, "goods_hoodie_l", 1).await;
    assert_eq!(
        form_error(&location(&refused)).as_deref(),
        Some("Sorry, that item is sold out.")
    );
    // M is bought and only M's stock moves.
    let session = app.buy(&buyer, &[("goods_hoodie", 1)]).await;
    app.sim
        .act()
        .choose_shipping(&session, &super::selling::address_in("US", None))
        .expect("address");
    app.pay(&session, CARD_OK);
    app.settle_webhooks().await;
    assert_eq!(app.stock_of("goods_hoodie").await, (9, 0));
    assert_eq!(app.stock_of("goods_hoodie_s").await, (3, 0));
    let order = app.order_of_session(&session).await;
    let name = sqlx::query_scalar::<_, String>("SELECT name FROM order_items WHERE order_id = $1")
        .bind(order.id)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("item");
    assert_eq!(name, "Hoodie (M)");
}

/// Six buyers race for size S, of which three are left: three get a Checkout, three are told, and
/// the other sizes' stock is untouched.
#[tokio::test]
async fn six_buyers_race_for_the_last_three_small_hoodies() {
    let app = TestApp::spawn_with(&[("TRUSTED_PROXIES", "127.0.0.0/8")]).await;
    app.settle_webhooks().await;
    let mut buyers = Vec::new();
    for n in 0..6 {
        let browser = app
            .new_user_from(&format!("small{n}@example.com"), &format!("10.1.{n}.1"))
            .await;
        let added = app.add_to_cart(&browser, "goods_hoodie_s", 1).await;
        assert_eq!(location(&added), "/cart");
        buyers.push(browser);
    }
    let answers = futures::future::join_all(buyers.iter().map(|b| app.checkout_cart(b))).await;
    let mut sessions = 0;
    for answer in &answers {
        let to = location(answer);
        if to.starts_with(&app.stripe_url("/checkout/")) {
            sessions += 1;
        } else {
            let message = form_error(&to).unwrap_or_default();
            assert!(
                message == "Sorry, that item is sold out." || message.starts_with("Sorry, only"),
                "{to}"
            );
        }
    }
    assert_eq!(sessions, 3);
    assert_eq!(app.stock_of("goods_hoodie_s").await, (3, 3));
    assert_eq!(app.stock_of("goods_hoodie").await, (10, 0), "M untouched");
}
