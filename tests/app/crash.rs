//! The app killed with SIGKILL in the middle of a purchase loses nothing (security review 2, M1: kept
//! so). A second instance runs as its own process; it takes the buyer's requests and is killed while
//! it syncs the order the buyer just paid. The first instance (which receives Stripe's webhooks and
//! sweeps) must then end with one paid order and one receipt per payment, and the stock balanced.

use crate::helpers::{BROWSER_ACCEPT, CARD_OK, STRIPE_SECRET_KEY, TestApp, WEBHOOK_SECRET};
use crate::helpers::{fixed_free_ports, location, no_redirects};
use secrecy::ExposeSecret;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `storefront` as its own process on `port`, against the app's database and sim.
fn spawn_instance(app: &TestApp, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_storefront"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("APP_URL", &app.base)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env(
            "DATABASE_URL",
            app.state.config.database_url.expose_secret(),
        )
        .env("STRIPE_SECRET_KEY", STRIPE_SECRET_KEY)
        .env("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("STRIPE_API_BASE", app.sim.base_url())
        .env("MAIL_DISABLED", "1")
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the storefront binary starts")
}

async fn wait_until_up(base: &str) {
    for _ in 0..200 {
        if reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the second instance did not start");
}

#[tokio::test]
async fn m1_an_instance_killed_mid_purchase_loses_nothing() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let mug_before = app.stock_of("mug").await;
    let mut paid = Vec::new();
    for (round, kill_after_ms) in [0u64, 3, 10, 25, 60].into_iter().enumerate() {
        let [port] = fixed_free_ports::<1>();
        let other = format!("http://127.0.0.1:{port}");
        let mut instance = spawn_instance(&app, port);
        wait_until_up(&other).await;
        let buyer = app.new_user(&format!("killed-{round}@example.com")).await;
        let post = |path: &str, form: &[(&str, &str)]| {
            buyer
                .post(format!("{other}{path}"))
                .header("origin", app.state.config.app_origin())
                .header("accept", BROWSER_ACCEPT)
                .form(form)
                .send()
        };
        let price = app.price_id("goods_mug");
        post(
            "/api/cart_add",
            &[("price_id", price.as_str()), ("quantity", "1")],
        )
        .await
        .expect("cart");
        let checkout = post("/api/checkout_cart", &[]).await.expect("checkout");
        assert_eq!(checkout.status(), 303, "round {round}");
        let session = app.session_of_checkout_url(&location(&checkout));
        let back = app.pay(&session, CARD_OK).replace(&app.base, &other);
        // The buyer's browser comes back to the killed instance while it syncs the order.
        let page = tokio::spawn({
            let client = no_redirects().build().expect("client");
            async move { client.get(back).send().await }
        });
        tokio::time::sleep(Duration::from_millis(kill_after_ms)).await;
        instance.kill().expect("SIGKILL");
        let _ = instance.wait();
        let _ = page.await;
        paid.push(session);
    }
    app.settle_webhooks().await;
    app.services.shop.sweep_stale_orders().await.expect("sweep");
    for session in &paid {
        let orders = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM orders WHERE checkout_session_id = $1 AND status = 'paid'",
        )
        .bind(session)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count");
        assert_eq!(orders, 1, "{session}: one paid order");
    }
    let receipts = app
        .count("SELECT COUNT(*) FROM outbox WHERE kind = 'order_receipt'")
        .await;
    assert_eq!(receipts, paid.len() as i64, "one receipt per payment");
    let sold = paid.len() as i64;
    assert_eq!(
        app.stock_of("mug").await,
        (mug_before.0 - sold, 0),
        "stock balanced"
    );
}
