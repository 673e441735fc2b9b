//! The caches (docs/ARCHITECTURE.md), seen from outside: anonymous pages served from memory (kept
//! compressed, scripts allowed by hash, never to a signed-in visitor, invalidated by catalog and
//! stock changes on every instance),
//! and sessions and users cached per instance (sign-out and access changes reach every instance),
//! and signed-in pages that follow changes to the user's orders made elsewhere.

use crate::helpers::{
    BROWSER_ACCEPT, CARD_OK, TestApp, eventually, no_redirects, session_cookie, signed_in_cookie,
    signed_in_on, unique_email,
};
use reqwest::Method;
use std::io::Read;
use std::time::Duration;

/// The page at `path` as a client asks for it with `accept_encoding`: its policy, its
/// `Content-Encoding`, and its body decoded.
async fn page_as(
    app: &TestApp,
    path: &str,
    accept_encoding: &str,
) -> (String, Option<String>, String) {
    let response = app
        .browser()
        .get(app.url(path))
        .header("accept-encoding", accept_encoding)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200, "GET {path}");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().expect("ascii").to_owned())
    };
    let policy = header("content-security-policy").expect("a policy");
    let encoding = header("content-encoding");
    if encoding.is_some() {
        let vary = header("vary").unwrap_or_default();
        assert!(vary.contains("accept-encoding"), "{path}: Vary is {vary:?}");
    }
    let body = response.bytes().await.expect("body");
    let mut page = Vec::new();
    match encoding.as_deref() {
        Some("br") => brotli::Decompressor::new(&body[..], 4096).read_to_end(&mut page),
        Some("gzip") => flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut page),
        None => {
            page.extend_from_slice(&body);
            Ok(body.len())
        }
        Some(other) => panic!("{path}: unexpected encoding {other}"),
    }
    .expect("decodes");
    (policy, encoding, String::from_utf8(page).expect("utf-8"))
}

/// Every inline script of `page` is allowed by its SHA-256 in `policy`, and no nonce is used.
fn assert_scripts_allowed_by_hash(path: &str, policy: &str, page: &str) {
    use base64::Engine;
    use sha2::Digest;
    assert!(!policy.contains("'nonce-"), "{path}: {policy}");
    let mut inline = 0;
    for script in page.split("<script").skip(1) {
        let (attributes, rest) = script.split_once('>').expect("a tag");
        if attributes.contains(" src=") {
            continue;
        }
        let text = &rest[..rest.find("</script>").expect("closed")];
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text));
        assert!(
            policy.contains(&format!("'sha256-{hash}'")),
            "{path}: script {text:?} not in {policy}"
        );
        inline += 1;
    }
    assert!(inline > 0, "{path}: the islands loader is inline");
}

/// Issue 20: a cached page is the same bytes for every response, kept compressed once: brotli for
/// browsers, gzip for clients that ask only for it, none for those that ask for neither.
#[tokio::test]
async fn cached_pages_are_served_compressed_as_asked_and_their_scripts_are_allowed_by_hash() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let good_page = "/shop/mug";
    wait_for_page(&app, good_page, "</html>", Duration::from_secs(10)).await;
    for path in [
        "/",
        "/pricing",
        "/pricing?interval=year",
        "/login",
        "/signup",
        "/shop",
        good_page,
        "/cart",
    ] {
        let (policy, encoding, first) = page_as(&app, path, "gzip, deflate, br, zstd").await;
        assert_eq!(encoding.as_deref(), Some("br"), "{path}");
        assert_scripts_allowed_by_hash(path, &policy, &first);
        let (_, _, second) = page_as(&app, path, "gzip, deflate, br, zstd").await;
        assert_eq!(first, second, "{path}: the same page for every response");
        let (gzip_policy, encoding, gzipped) = page_as(&app, path, "gzip").await;
        assert_eq!(encoding.as_deref(), Some("gzip"), "{path}");
        assert_eq!(
            (gzip_policy, gzipped),
            (policy.clone(), first.clone()),
            "{path}"
        );
        let (_, encoding, plain) = page_as(&app, path, "identity").await;
        assert_eq!(encoding, None, "{path}");
        assert_eq!(plain, first, "{path}");
    }
    let (_, _, yearly) = page_as(&app, "/pricing?interval=year", "br").await;
    assert!(
        yearly.contains("data-interval=\"year\""),
        "the year view is its own entry"
    );
}

/// The pages that are never cached (an order, the pay page with Stripe.js) carry the same hashes.
#[tokio::test]
async fn uncached_pages_allow_the_same_inline_scripts_by_hash() {
    let app = TestApp::spawn().await;
    let browser = app.new_user(&unique_email("hashes")).await;
    for path in ["/dashboard", "/shop?x=1", "/billing/success"] {
        let response = app.get(&browser, path).await;
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let page = response.text().await.expect("page");
        assert_scripts_allowed_by_hash(path, &policy, &page);
    }
}

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
    sqlx::query("UPDATE products SET stock_on_hand = stock_reserved WHERE slug = $1")
        .bind(slug)
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

/// Issue 20: a release build names the bundle by hash and writes `.br`/`.gz` beside each file; pages
/// link the hashed names (allowed by the CSP's hash of the loader), and `/pkg` serves the
/// pre-compressed bytes with a year's immutable lifetime. Without hashes, browsers revalidate.
#[tokio::test]
async fn a_hashed_bundle_is_linked_and_served_precompressed_and_immutable() {
    let site = std::env::temp_dir().join(format!("storefront-site-{}", unique_email("site")));
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg).expect("site dir");
    let js = "export default function init() {}".repeat(50);
    std::fs::write(pkg.join("storefront.JsHash1.js"), &js).expect("js");
    let mut js_br = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut js_br, 4096, 9, 22);
        std::io::Write::write_all(&mut writer, js.as_bytes()).expect("compress");
    }
    std::fs::write(pkg.join("storefront.JsHash1.js.br"), &js_br).expect("js.br");
    std::fs::write(pkg.join("storefront.CssHash3.css"), "body{}").expect("css");
    std::fs::write(
        site.join("hash.txt"),
        "js: JsHash1\nwasm: WasmHash2\ncss: CssHash3\n",
    )
    .expect("hash file");
    let app =
        TestApp::spawn_with(&[("LEPTOS_SITE_ROOT", site.to_str().expect("utf-8 path"))]).await;

    let (policy, _, page) = page_as(&app, "/login", "br").await;
    assert!(
        page.contains("href=\"/pkg/storefront.JsHash1.js\""),
        "{page}"
    );
    assert!(
        page.contains("href=\"/pkg/storefront.WasmHash2.wasm\""),
        "{page}"
    );
    assert!(
        page.contains("href=\"/pkg/storefront.CssHash3.css\""),
        "{page}"
    );
    assert_scripts_allowed_by_hash("/login", &policy, &page);

    let response = app
        .browser()
        .get(app.url("/pkg/storefront.JsHash1.js"))
        .header("accept-encoding", "gzip, deflate, br, zstd")
        .send()
        .await
        .expect("the bundle");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "br");
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(response.headers()["vary"], "accept-encoding");
    assert_eq!(
        response.bytes().await.expect("bytes"),
        js_br,
        "the .br file as it is"
    );
    std::fs::remove_dir_all(&site).expect("site removed");

    // A build without hashes: fixed names, revalidated.
    std::fs::create_dir_all(&pkg).expect("site dir");
    std::fs::write(pkg.join("storefront.css"), "body{}").expect("css");
    let unhashed =
        TestApp::spawn_with(&[("LEPTOS_SITE_ROOT", site.to_str().expect("utf-8 path"))]).await;
    let response = unhashed
        .browser()
        .get(unhashed.url("/pkg/storefront.css"))
        .send()
        .await
        .expect("the stylesheet");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let (_, _, page) = page_as(&unhashed, "/login", "br").await;
    assert!(page.contains("href=\"/pkg/storefront.css\""), "{page}");
    std::fs::remove_dir_all(&site).ok();
}
