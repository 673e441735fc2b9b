//! "Download my data" and "Delete my account" (issue 21): the export holds what the store keeps; the
//! deletion ends what Stripe would bill, erases every row of the person and keeps the orders and
//! invoices without them. The table walk reads the schema itself, so a table added later fails here
//! until someone decides what erasure does with it.

use super::form_error_of;
use crate::helpers::{
    CARD_OK, PASSWORD, TestApp, eventually, location, session_cookie, unique_email,
};
use std::time::Duration;

/// Every table of the schema, and what erasure does with its rows of the person.
const TABLES: &[(&str, &str)] = &[
    ("users", "deleted"),
    ("subscriptions", "deleted (cascade)"),
    ("checkout_sessions", "deleted (cascade)"),
    ("account_tokens", "deleted (cascade)"),
    ("user_sessions", "deleted (cascade)"),
    (
        "tower_sessions",
        "the person's sessions deleted (carts with them)",
    ),
    ("session", "PostgreSQL's name of tower_sessions"),
    (
        "outbox",
        "every mail to the address deleted; the goodbye once delivered",
    ),
    (
        "orders",
        "kept for bookkeeping, buyer, cart and Stripe page links removed",
    ),
    (
        "order_items",
        "kept with their order: what was sold, no person",
    ),
    (
        "invoices",
        "kept for bookkeeping, buyer and Stripe page link removed",
    ),
    ("stripe_events", "ids and types of events, no person"),
    (
        "cache_invalidations",
        "the former id as a cache key, for an hour",
    ),
    ("products", "the catalog"),
    ("prices", "the catalog"),
    ("installation", "this installation"),
    ("_sqlx_migrations", "the schema's ledger"),
];

/// (table, column, whether it is text) of every table, PostgreSQL's session schema included.
async fn columns(app: &TestApp) -> Vec<(String, String, bool)> {
    let pool = &app.state.db.pool;
    if crate::helpers::testing_postgres() {
        return sqlx::query_as::<_, (String, String, String)>(
            "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema IN ('public', 'tower_sessions') ORDER BY table_name, ordinal_position",
        )
        .fetch_all(pool)
        .await
        .expect("columns")
        .into_iter()
        .map(|(table, column, kind)| (table, column, kind == "text"))
        .collect();
    }
    let tables = sqlx::query_scalar::<_, String>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    let mut all = Vec::new();
    for table in tables {
        let sql = format!("SELECT name, type FROM pragma_table_info('{table}')");
        for (column, kind) in sqlx::query_as::<_, (String, String)>(&sql)
            .fetch_all(pool)
            .await
            .expect("columns")
        {
            all.push((table.clone(), column, kind.eq_ignore_ascii_case("TEXT")));
        }
    }
    all
}

/// The (table.column)s whose text equals `value`, in any case.
async fn holding(app: &TestApp, value: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (table, column, text) in columns(app).await {
        let qualified = if table == "session" {
            "tower_sessions.session".to_owned()
        } else {
            format!("\"{table}\"")
        };
        if !text {
            continue;
        }
        let sql = format!("SELECT COUNT(*) FROM {qualified} WHERE LOWER(\"{column}\") = LOWER($1)");
        let count = sqlx::query_scalar::<_, i64>(&sql)
            .bind(value)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("count");
        if count > 0 {
            found.push(format!("{table}.{column}"));
        }
    }
    found
}

async fn rows_of_user(app: &TestApp, user_id: i64) -> Vec<String> {
    let mut found = Vec::new();
    for (table, column, _) in columns(app).await {
        if column != "user_id" {
            continue;
        }
        let sql = format!("SELECT COUNT(*) FROM \"{table}\" WHERE user_id = $1");
        let count = sqlx::query_scalar::<_, i64>(&sql)
            .bind(user_id)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("count");
        if count > 0 {
            found.push(table);
        }
    }
    found
}

#[tokio::test]
async fn the_export_holds_the_account_and_deleting_it_leaves_nothing_of_the_person() {
    let app = TestApp::builder().mail().start().await;
    let email = unique_email("leaving");
    let browser = app.subscriber(&email, "basic_monthly", CARD_OK).await;
    let session = app.buy(&browser, &[("goods_mug", 1)]).await;
    app.pay(&session, CARD_OK);
    app.settle_webhooks().await;
    app.add_to_cart(&browser, "goods_stickers", 1).await;
    let user_id = app
        .count(&format!("SELECT id FROM users WHERE email = '{email}'"))
        .await;
    let customer = app.customer_of(&email).await;
    let subscription = app.synced_subscription_of(&email).await;
    let order_id = app.order_of_session(&session).await.id;
    let stayer = app.new_user(&unique_email("staying")).await;

    let export = app.get(&browser, "/account/my-data.json").await;
    assert_eq!(export.status(), 200, "{:?}", export.headers());
    let disposition = export.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let data: serde_json::Value = export.json().await.expect("JSON");
    assert_eq!(data["account"]["email"], email.as_str());
    assert_eq!(data["subscriptions"][0]["id"], subscription.as_str());
    assert!(
        data["invoices"].as_array().is_some_and(|i| !i.is_empty()),
        "{data}"
    );
    assert_eq!(data["orders"][0]["lines"][0]["name"], "Storefront mug");
    let subjects: Vec<&str> = data["mails"]
        .as_array()
        .expect("mails")
        .iter()
        .filter_map(|m| m["subject"].as_str())
        .collect();
    assert!(
        subjects.contains(&"Confirm your e-mail address"),
        "{subjects:?}"
    );
    assert!(!data.to_string().contains("password"), "{data}");

    let (_, wrong) = form_error_of(
        &app,
        &browser,
        "/api/delete_account",
        "/account",
        &[("current_password", "not my password")],
    )
    .await;
    assert_eq!(wrong.as_deref(), Some("That is not your current password."));
    let sessions_before: Vec<String> =
        sqlx::query_scalar("SELECT session_id FROM user_sessions WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&app.state.db.pool)
            .await
            .expect("sessions");
    let deleted = app
        .post_form(
            &browser,
            "/api/delete_account",
            "/account",
            &[("current_password", PASSWORD)],
        )
        .await;
    assert_eq!(deleted.status(), 303);
    assert_eq!(location(&deleted), "/account/deleted");
    let cookie = session_cookie(&deleted).expect("the cookie is cleared");
    assert!(
        cookie.contains("Max-Age=0") || cookie.contains("expires="),
        "{cookie}"
    );

    // At Stripe: nothing left to bill, no customer.
    let sub = app
        .stripe_get(&format!("/v1/subscriptions/{subscription}"))
        .await;
    assert_eq!(sub["status"], "canceled", "{sub}");
    let gone = app.stripe_get(&format!("/v1/customers/{customer}")).await;
    assert_eq!(gone["deleted"], true, "{gone}");

    // Mails still queued for the address were erased with it; the goodbye comes last.
    eventually(Duration::from_secs(20), "the goodbye arrives", || async {
        let mails = app.mails_to(&email).await;
        mails
            .last()
            .is_some_and(|m| m.subject == "Your account was deleted")
    })
    .await;
    let before_new_sign_up = app.mails_to(&email).await.len();
    app.settle_webhooks().await;
    eventually(
        Duration::from_secs(10),
        "the goodbye is forgotten once sent",
        || async { holding(&app, &email).await.is_empty() },
    )
    .await;
    assert_eq!(rows_of_user(&app, user_id).await, Vec::<String>::new());
    assert_eq!(holding(&app, &customer).await, ["invoices.customer_id"]);
    // A deleted session's id is announced to every instance's cache; it opens nothing any more.
    for id in &sessions_before {
        assert_eq!(
            holding(&app, id).await,
            ["cache_invalidations.key"],
            "session {id}"
        );
    }
    let kept = app
        .count(&format!(
            "SELECT COUNT(*) FROM orders o JOIN order_items i ON i.order_id = o.id \
         WHERE o.id = {order_id} AND o.user_id IS NULL AND o.status = 'paid'"
        ))
        .await;
    assert_eq!(kept, 1, "the order is kept, without its buyer");
    let invoices = app
        .count(&format!(
            "SELECT COUNT(*) FROM invoices WHERE customer_id = '{customer}' AND user_id IS NULL \
         AND hosted_invoice_url IS NULL"
        ))
        .await;
    assert!(invoices >= 1);
    for (table, _, _) in columns(&app).await {
        assert!(
            TABLES.iter().any(|(known, _)| *known == table),
            "table {table}: say what erasure does with it"
        );
    }
    assert!(
        app.get(&browser, "/dashboard")
            .await
            .status()
            .is_redirection(),
        "signed out"
    );
    assert_eq!(
        app.get(&stayer, "/dashboard").await.status(),
        200,
        "others stay"
    );

    // The address is free again.
    let again = app
        .post_form(
            &app.browser(),
            "/api/signup",
            "/signup",
            &[("email", email.as_str()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(again.status(), 303);
    let mails = app.exactly_mails_to(&email, before_new_sign_up + 1).await;
    assert_eq!(
        mails[before_new_sign_up].subject,
        "Confirm your e-mail address"
    );
}
