//! The caches (docs/ARCHITECTURE.md), seen from outside: anonymous pages served from memory (kept
//! compressed, scripts allowed by hash, never to a signed-in visitor, invalidated by catalog and
//! stock changes on every instance),
//! and sessions and users cached per instance (sign-out and access changes reach every instance),
//! and signed-in pages that follow changes to the user's orders made elsewhere.

use crate::compression::page_as;
use crate::helpers::{
    BROWSER_ACCEPT, CARD_OK, TestApp, eventually, no_redirects, session_cookie, signed_in_cookie,
    signed_in_on, unique_email,
};
use reqwest::Method;
use std::time::Duration;

/// Issue 20: the shop's pages are cached, and a stock change made anywhere (another instance, an
/// operator's SQL) reaches them on every instance within the invalidation poll.
#[tokio::test]
async fn a_stock_change_reaches_the_cached_shop_pages_of_every_instance() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    app.settle_webhooks().await;
    let slug = "mug";
    let good_page = format!("/shop/{slug}");
    let sold_out = "data-testid=\"sold-out\"";
    for instance in [&app, &other] {
        wait_for_page(instance, &good_page, "</html>", Duration::from_secs(10)).await;
        for path in ["/shop", good_page.as_str()] {
            for _ in 0..2 {
                let page = instance.page(&instance.browser(), path).await;
                assert!(!page.contains(sold_out), "{path} in stock (and now cached)");
            }
        }
    }
    sqlx::query("UPDATE prices SET stock_on_hand = stock_reserved WHERE lookup_key = $1")
        .bind(crate::helpers::lookup_key_of(slug))
        .execute(&app.state.db.pool)
        .await
        .expect("sell out");
    for instance in [&app, &other] {
        for path in ["/shop", good_page.as_str()] {
            wait_for_page(instance, path, sold_out, Duration::from_secs(3)).await;
        }
    }
}

#[tokio::test]
async fn a_signed_in_visitor_never_gets_the_anonymous_page() {
    let app = TestApp::spawn().await;
    let (_, _, anonymous) = page_as(&app, "/pricing", "br").await;
    assert!(anonymous.contains("Sign in"));
    let browser = app.new_user("cached@example.com").await;
    let signed_in = app.page(&browser, "/pricing").await;
    assert!(
        signed_in.contains("cached@example.com"),
        "the user's own header"
    );
    assert!(signed_in.contains("data-testid=\"free-notice\""));
    let (_, _, anonymous_again) = page_as(&app, "/pricing", "br").await;
    assert!(!anonymous_again.contains("cached@example.com"));
    // A stale or forged session cookie is not served the cached page either: it goes through the
    // session layer, which finds no session and clears the cookie.
    let stranger = no_redirects().build().expect("client");
    let response = stranger
        .get(app.url("/pricing"))
        .header(
            "cookie",
            format!("{}=bm90LWEtc2Vzc2lvbg", storefront::SESSION_COOKIE),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let cleared = session_cookie(&response).expect("the stale cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
}

async fn wait_for_page(app: &TestApp, path: &str, needle: &str, within: Duration) {
    let what = format!("{path} never showed {needle:?}");
    eventually(within, &what, || async {
        app.page(&app.browser(), path).await.contains(needle)
    })
    .await;
}

#[tokio::test]
async fn a_catalog_change_reaches_the_cached_pages_of_every_instance() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    app.settle_webhooks().await;
    // The other instance may have started before the seed catalog's webhooks were applied: it catches
    // up at its next catalog check.
    for instance in [&app, &other] {
        wait_for_page(instance, "/", ">Pro</h2>", Duration::from_secs(10)).await;
    }
    let pro_product = app.sim.events().iter().find_map(|e| {
        (e["type"] == "product.created" && e["data"]["object"]["name"] == "Pro")
            .then(|| e["data"]["object"]["id"].as_str().map(str::to_owned))
            .flatten()
    });
    let renamed = app
        .stripe_api(
            Method::POST,
            &format!("/v1/products/{}", pro_product.expect("Pro")),
        )
        .form(&[("name", "Pro Plus")])
        .send()
        .await
        .expect("rename");
    assert_eq!(renamed.status(), 200);
    app.settle_webhooks().await;
    // The instance that got the webhook at once; the other at its next catalog check (5 s).
    wait_for_page(&app, "/", ">Pro Plus</h2>", Duration::from_secs(2)).await;
    wait_for_page(&other, "/", ">Pro Plus</h2>", Duration::from_secs(10)).await;
}

#[tokio::test]
async fn a_sign_out_on_one_instance_ends_the_session_on_every_instance() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let email = "everywhere@example.com";
    let cookie = signed_in_cookie(&app, email).await;
    for instance in [&app, &other] {
        assert!(
            signed_in_on(instance, &cookie, email).await,
            "signed in (and now cached) on both"
        );
    }
    let signed_out = no_redirects()
        .build()
        .expect("client")
        .post(app.url("/api/logout"))
        .header("cookie", &cookie)
        .header("origin", app.state.config.app_origin())
        .header("accept", BROWSER_ACCEPT)
        .form(&[("", "")][..0])
        .send()
        .await
        .expect("sign out");
    assert_eq!(signed_out.status(), 302);
    assert!(
        !signed_in_on(&app, &cookie, email).await,
        "at once on the instance that signed out"
    );
    eventually(
        Duration::from_secs(3),
        "the other instance still accepts the session",
        || async { !signed_in_on(&other, &cookie, email).await },
    )
    .await;
}

#[tokio::test]
async fn an_access_change_reaches_a_cached_user_on_every_instance() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let cookie = signed_in_cookie(&app, "promoted@example.com").await;
    let pro_page = || async {
        no_redirects()
            .build()
            .expect("client")
            .get(other.url("/pro"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("request")
            .status()
    };
    assert_eq!(pro_page().await, 403, "free, and now cached as free");
    // Any write to the user's row (here an operator's), not only our own code's, reaches the caches.
    sqlx::query("UPDATE users SET role = 'pro' WHERE email = 'promoted@example.com'")
        .execute(&app.state.db.pool)
        .await
        .expect("update");
    eventually(
        Duration::from_secs(3),
        "the other instance still sees the old role",
        || async { pro_page().await == 200 },
    )
    .await;
}

#[tokio::test]
async fn signed_in_pages_are_per_user_and_follow_billing_changes() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let ada = app.new_user("ada@example.com").await;
    let bob = app.new_user("bob@example.com").await;
    for _ in 0..2 {
        for path in ["/dashboard", "/pricing"] {
            let (ada_page, bob_page) = (app.page(&ada, path).await, app.page(&bob, path).await);
            assert!(ada_page.contains("ada@example.com") && !ada_page.contains("bob@example.com"));
            assert!(bob_page.contains("bob@example.com") && !bob_page.contains("ada@example.com"));
        }
    }
    assert_eq!(app.get(&ada, "/pro").await.status(), 403);
    let session = app.start_checkout(&ada, "pro_monthly").await;
    app.pay(&session, CARD_OK);
    app.settle_webhooks().await;
    // The webhook's sync wrote Ada's rows on this instance: her next page shows it at once.
    assert_eq!(app.get(&ada, "/pro").await.status(), 200);
    let dashboard = app.page(&ada, "/dashboard").await;
    assert!(
        !dashboard.contains(r#"<dd data-testid="plan">Free</dd>"#),
        "{dashboard}"
    );
    assert_eq!(
        app.get(&bob, "/pro").await.status(),
        403,
        "Bob is still free"
    );
}

/// A pay-on-page order gets its PaymentIntent on whichever instance the buyer pays (here written by
/// SQL, as another instance would): from then on the dashboard lists it, also where it was cached.
/// Only `payment_intent_id` changes, and it alone decides whether the dashboard lists an order
/// (`Shop::orders_of`, src/shop/ssr/orders.rs).
#[tokio::test]
async fn an_order_given_its_payment_intent_elsewhere_reaches_the_cached_dashboard() {
    let app = TestApp::spawn().await;
    // The seed catalog's webhooks reload the catalog, which would empty the page cache anyway.
    app.settle_webhooks().await;
    let email = unique_email("intent-elsewhere");
    let browser = app.new_user(&email).await;
    let pool = &app.state.db.pool;
    let user_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_one(pool)
        .await
        .expect("the user");
    let now = storefront::db::now_unix();
    // As the pay page's first step writes it: pending, to be paid on our page, no intent yet.
    let order_id: i64 = sqlx::query_scalar(
        "INSERT INTO orders (user_id, status, currency, total, cart_key, payment_flow, created_at, \
         updated_at) VALUES ($1, 'pending', 'usd', 1200, 'price_test:1', 'intent', $2, $2) RETURNING id",
    )
    .bind(user_id)
    .bind(now)
    .fetch_one(pool)
    .await
    .expect("an order");
    sqlx::query(
        "INSERT INTO order_items (order_id, price_id, product_id, name, unit_amount, quantity) \
         VALUES ($1, 'price_test', 'prod_test', 'Test mug', 1200, 1)",
    )
    .bind(order_id)
    .execute(pool)
    .await
    .expect("its item");
    let link = format!("href=\"/shop/orders/{order_id}\"");
    // Rendered, then served from the cache.
    for _ in 0..2 {
        let dashboard = app.page(&browser, "/dashboard").await;
        assert!(dashboard.contains(&email), "signed in");
        assert!(!dashboard.contains(&link), "no intent yet, so not listed");
    }
    sqlx::query("UPDATE orders SET payment_intent_id = $2 WHERE id = $1")
        .bind(order_id)
        .bind("pi_created_elsewhere")
        .execute(pool)
        .await
        .expect("the intent is recorded");
    // The poll reads invalidations twice a second. A cached signed-in page has no age limit: without
    // an invalidation it stays until the catalog or some user's rows change.
    eventually(
        Duration::from_secs(10),
        "the cached dashboard does not list the order that now has an intent",
        || async { app.page(&browser, "/dashboard").await.contains(&link) },
    )
    .await;
}

/// Security review 2, L6: a new order was not announced (the orders trigger fired on updates only),
/// so another instance's cached dashboard never listed it.
#[tokio::test]
async fn l6_a_new_order_reaches_the_cached_dashboard_of_every_instance() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let email = "new-order@example.com";
    let cookie = signed_in_cookie(&app, email).await;
    let dashboard_on_other = || async {
        no_redirects()
            .build()
            .expect("client")
            .get(other.url("/dashboard"))
            .header("cookie", &cookie)
            .header("accept", BROWSER_ACCEPT)
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("body")
    };
    for _ in 0..2 {
        assert!(
            !dashboard_on_other()
                .await
                .contains("data-testid=\"order-row\"")
        );
    }
    // An order made elsewhere (another instance, an operator's tool).
    sqlx::query(
        "INSERT INTO orders (user_id, status, currency, total, cart_key, payment_flow, \
         checkout_session_id, created_at, updated_at, paid_at) \
         SELECT id, 'paid', 'usd', 1200, 'k', 'checkout', 'cs_test_elsewhere', 1, 1, 1 FROM users \
         WHERE email = $1",
    )
    .bind(email)
    .execute(&app.state.db.pool)
    .await
    .expect("order");
    eventually(
        Duration::from_secs(3),
        "the other instance lists the new order",
        || async {
            dashboard_on_other()
                .await
                .contains("data-testid=\"order-row\"")
        },
    )
    .await;
}

/// Security review 2, L6: a dashboard whose queries failed rendered empty with 200, and the page cache
/// kept it until some change anywhere. Now it answers 503 and nothing keeps it.
#[tokio::test]
async fn l6_a_failed_dashboard_read_is_not_cached() {
    let app = TestApp::spawn().await;
    let browser = app
        .subscriber("flaky-db@example.com", "basic_monthly", CARD_OK)
        .await;
    app.settle_webhooks().await;
    let shown = |page: &str| page.contains("data-testid=\"price\"");
    assert!(shown(
        &app.get(&browser, "/dashboard")
            .await
            .text()
            .await
            .expect("page")
    ));
    sqlx::query("ALTER TABLE subscriptions RENAME TO subscriptions_away")
        .execute(&app.state.db.pool)
        .await
        .expect("break the read");
    // The kept page of before is forgotten once the user's row is touched (as any billing write does).
    sqlx::query("UPDATE users SET role = role WHERE email = 'flaky-db@example.com'")
        .execute(&app.state.db.pool)
        .await
        .expect("touch");
    eventually(
        Duration::from_secs(3),
        "the failed read answers 503",
        || async { app.get(&browser, "/dashboard").await.status() == 503 },
    )
    .await;
    sqlx::query("ALTER TABLE subscriptions_away RENAME TO subscriptions")
        .execute(&app.state.db.pool)
        .await
        .expect("mend it");
    let mended = app
        .get(&browser, "/dashboard")
        .await
        .text()
        .await
        .expect("page");
    assert!(
        shown(&mended),
        "the real dashboard again, not a kept empty one"
    );
}
