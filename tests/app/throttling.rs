//! Security review H2, M1, L10: throttles that tell clients apart behind a proxy, a bounded password
//! hashing, and no lockout of one account from one address.

use crate::helpers::{PASSWORD, TestApp, session_cookie};

/// A proxy in front of the app: it connects from 127.0.0.1 and says who its client is.
const BEHIND_PROXY: &[(&str, &str)] = &[("TRUSTED_PROXIES", "127.0.0.0/8")];

async fn sign_up_from(app: &TestApp, client_ip: &str, email: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/api/signup"))
        .header("x-forwarded-for", client_ip)
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .expect("request")
}

/// Signs in as a script does: the status code carries the answer (401, 429, 503).
async fn sign_in_from(
    app: &TestApp,
    client_ip: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(app.url("/api/login"))
        .header("x-forwarded-for", client_ip)
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .expect("request")
}

/// Sign-ups per client: burst 10. Returns the status of the 11th attempt from `ips(10)`.
async fn eleventh_sign_up(app: &TestApp, ips: impl Fn(usize) -> String, tag: &str) -> u16 {
    for n in 0..10 {
        let response = sign_up_from(app, &ips(n), &format!("{tag}{n}@example.com")).await;
        assert!(
            response.status().is_success() || response.status().is_redirection(),
            "sign-up {n}"
        );
    }
    sign_up_from(app, &ips(10), &format!("{tag}10@example.com"))
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn h2_behind_a_trusted_proxy_clients_are_told_apart() {
    let app = TestApp::spawn_with(BEHIND_PROXY).await;
    // Ten sign-ups from one client use up its burst; the next client behind the same proxy is not
    // affected (before: every client had the proxy's address, so the limit was site-wide).
    assert_eq!(
        eleventh_sign_up(&app, |_| "203.0.113.1".into(), "a").await,
        429
    );
    let other = sign_up_from(&app, "203.0.113.2", "other@example.com").await;
    assert_eq!(
        other.status(),
        200,
        "another client behind the proxy signs up"
    );
}

#[tokio::test]
async fn h2_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = TestApp::spawn().await;
    // No TRUSTED_PROXIES: a client cannot escape its limit by claiming other addresses.
    assert_eq!(
        eleventh_sign_up(&app, |n| format!("198.51.100.{n}"), "s").await,
        429
    );
}

#[tokio::test]
async fn m1_ipv6_clients_are_limited_by_their_64() {
    let app = TestApp::spawn_with(BEHIND_PROXY).await;
    let same_64 = |n: usize| format!("2001:db8:7:7::{:x}", n + 1);
    assert_eq!(eleventh_sign_up(&app, same_64, "v").await, 429);
    let next_64 = sign_up_from(&app, "2001:db8:7:8::1", "next-network@example.com").await;
    assert_eq!(next_64.status(), 200);
}

#[tokio::test]
async fn m1_password_hashing_is_capped_and_a_full_cap_answers_503() {
    let app = TestApp::spawn_with(&[
        ("TRUSTED_PROXIES", "127.0.0.0/8"),
        ("PASSWORD_HASHING_CONCURRENCY", "1"),
        ("PASSWORD_HASHING_WAIT_MS", "0"),
    ])
    .await;
    let attempts = (0..16).map(|n| {
        let app = &app;
        async move {
            let ip = format!("192.0.2.{n}");
            let response =
                sign_in_from(app, &ip, &format!("nobody{n}@example.com"), PASSWORD).await;
            let retry_after = response.headers().get("retry-after").cloned();
            (response.status().as_u16(), retry_after)
        }
    });
    let answers = futures::future::join_all(attempts).await;
    let busy: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status == 503)
        .collect();
    assert!(!busy.is_empty(), "a full cap answers 503: {answers:?}");
    assert!(
        busy.iter().all(|(_, retry)| retry.is_some()),
        "with Retry-After"
    );
    assert!(
        answers
            .iter()
            .all(|(status, _)| [401, 503].contains(status)),
        "the rest are ordinary wrong-password answers: {answers:?}"
    );
}

#[tokio::test]
async fn l10_one_address_cannot_lock_an_account_out() {
    let app = TestApp::spawn_with(BEHIND_PROXY).await;
    app.new_user("victim@example.com").await;
    let mut limited = false;
    for _ in 0..8 {
        let guess = sign_in_from(
            &app,
            "198.51.100.66",
            "victim@example.com",
            "wrong password!",
        )
        .await;
        limited |= guess.status() == 429;
    }
    assert!(limited, "the guessing address is limited");
    let owner = sign_in_from(&app, "203.0.113.5", "victim@example.com", PASSWORD).await;
    assert_eq!(owner.status(), 200, "the owner signs in from elsewhere");
    assert!(session_cookie(&owner).is_some(), "and gets a session");
}

/// Failed sign-ins for one account from one client, through a proxy that appends the client's address
/// to `proxy_header` while the client writes its own, different `client_header` each time. Returns
/// whether any attempt was limited (429).
async fn rotating_guesses_are_limited(
    app: &TestApp,
    proxy_header: &str,
    proxy_value: &str,
    client_header: &str,
) -> bool {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut limited = false;
    for n in 0..8 {
        let forged = match client_header {
            "forwarded" => format!("for=198.51.100.{n}"),
            _ => format!("198.51.100.{n}"),
        };
        let guess = client
            .post(app.url("/api/login"))
            .header(client_header, forged)
            .header(proxy_header, proxy_value)
            .form(&[
                ("email", "victim@example.com"),
                ("password", "wrong password!"),
            ])
            .send()
            .await
            .expect("request");
        limited |= guess.status() == 429;
    }
    limited
}

#[tokio::test]
async fn h3_a_client_written_forwarded_header_is_not_believed_behind_an_x_forwarded_for_proxy() {
    // The documented nginx set-up: the proxy appends to X-Forwarded-For and passes a client's own
    // `Forwarded` through untouched. Before: `Forwarded` won, so every guess came from a new "client".
    let app = TestApp::spawn_with(BEHIND_PROXY).await;
    app.new_user("victim@example.com").await;
    assert!(
        rotating_guesses_are_limited(&app, "x-forwarded-for", "203.0.113.50", "forwarded").await,
        "guesses from one client are limited whatever Forwarded it writes"
    );
}

#[tokio::test]
async fn h3_with_client_ip_header_forwarded_only_forwarded_is_read() {
    // A proxy that writes RFC 7239 `Forwarded` (CLIENT_IP_HEADER=forwarded): now X-Forwarded-For is the
    // header a client could forge, and it is ignored.
    let app = TestApp::spawn_with(&[
        ("TRUSTED_PROXIES", "127.0.0.0/8"),
        ("CLIENT_IP_HEADER", "forwarded"),
    ])
    .await;
    app.new_user("victim@example.com").await;
    assert!(
        rotating_guesses_are_limited(&app, "forwarded", "for=203.0.113.50", "x-forwarded-for")
            .await,
        "guesses from one client are limited whatever X-Forwarded-For it writes"
    );
}

/// Security review 2, L4: a `cart_add` without a cookie made a new session row (kept 14 days) every
/// time, with no limit per client.
#[tokio::test]
async fn l4_one_client_cannot_start_sessions_without_limit() {
    let app = TestApp::spawn().await;
    let price = app.price_id("goods_stickers");
    let mut limited = 0;
    for _ in 0..30 {
        let fresh_visitor = reqwest::Client::new()
            .post(app.url("/api/cart_add"))
            .form(&[("price_id", price.as_str()), ("quantity", "1")])
            .send()
            .await
            .expect("request");
        limited += usize::from(fresh_visitor.status() == 429);
    }
    assert!(limited >= 5, "{limited} of 30 were limited");
    let table = match app.state.db.typed {
        storefront::db::TypedPool::Sqlite(_) => "tower_sessions",
        storefront::db::TypedPool::Postgres(_) => "tower_sessions.session",
    };
    let sessions = app.count(&format!("SELECT COUNT(*) FROM {table}")).await;
    assert!(sessions <= 25, "{sessions} sessions stored");
}

/// Security review 2, L4: every ended session was announced to every instance (a row each, and every
/// instance's caches emptied when it applied it), anonymous ones too.
#[tokio::test]
async fn l4_the_end_of_an_anonymous_session_is_not_announced() {
    let app = TestApp::spawn().await;
    let visitor = app.browser();
    app.add_to_cart(&visitor, "goods_mug", 1).await;
    let before = app
        .count("SELECT COUNT(*) FROM cache_invalidations WHERE kind = 'session'")
        .await;
    let ended = app.post_form(&visitor, "/api/logout", "/cart", &[]).await;
    assert!(ended.status().is_redirection() || ended.status().is_success());
    let after = app
        .count("SELECT COUNT(*) FROM cache_invalidations WHERE kind = 'session'")
        .await;
    assert_eq!(after, before, "no announcement for a session nobody caches");
}
