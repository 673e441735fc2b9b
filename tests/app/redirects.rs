//! Security review H1, L1, L12: where a request may send the browser, and ids from input.

use crate::helpers::{PASSWORD, TestApp, location};

#[tokio::test]
async fn h1_next_with_tab_stays_on_site() {
    let app = TestApp::spawn().await;
    let browser = app.new_user("tab@example.com").await;
    // Browsers drop TAB/CR/LF before parsing a Location, so `/\t/evil.example` would mean
    // `//evil.example`: another site.
    let page = app.get(&browser, "/login?next=/%09/evil.example").await;
    assert_eq!(page.status(), 302);
    assert_eq!(location(&page), "/dashboard");
    for next in [
        "/\t/evil.example",
        "/\\evil.example",
        "/ /evil.example",
        "https://evil.example",
    ] {
        let response = app
            .post_form(
                &browser,
                "/api/login",
                "/login",
                &[
                    ("email", "tab@example.com"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(location(&response), "/dashboard", "{next:?}");
    }
}

#[tokio::test]
async fn l1_control_characters_in_next_never_crash_a_handler() {
    let app = TestApp::spawn().await;
    let browser = app.new_user("ctl@example.com").await;
    for next in ["/%0A", "/%0D", "/%00", "/%7F"] {
        let page = app.get(&browser, &format!("/login?next={next}")).await;
        assert_eq!(page.status(), 302, "{next}");
        assert_eq!(location(&page), "/dashboard", "{next}");
    }
    let response = app
        .post_form(
            &browser,
            "/api/login",
            "/login",
            &[
                ("email", "ctl@example.com"),
                ("password", PASSWORD),
                ("next", "/\r"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/dashboard");
}

#[tokio::test]
async fn l1_success_page_session_id_is_encoded_into_the_sign_in_link() {
    let app = TestApp::spawn().await;
    let visitor = app.browser();
    let page = app
        .get(
            &visitor,
            "/billing/success?session_id=%0Acs_1%26next%3D%2F%2Fevil",
        )
        .await;
    assert_eq!(page.status(), 302);
    assert_eq!(
        location(&page),
        "/login?next=/billing/success%3Fsession_id%3D%0Acs_1%26next%3D//evil"
    );
}

#[tokio::test]
async fn l12_malformed_session_ids_are_404_without_a_stripe_call() {
    let app = TestApp::spawn().await;
    let browser = app.new_user("ids@example.com").await;
    // The seed catalog's events make the app read products and prices; let that finish first.
    app.settle_webhooks().await;
    let before = app.sim.api_requests();
    for id in [
        "cs_..%2F..%2Fv1%2Fcustomers",
        "cs_a%20b",
        "cs_a%2Fb",
        "cs_",
        "sub_123",
        "cs_%C3%A9",
    ] {
        let page = app
            .get(&browser, &format!("/billing/success?session_id={id}"))
            .await;
        assert_eq!(page.status(), 404, "{id}");
    }
    assert_eq!(
        app.sim.api_requests(),
        before,
        "no Stripe call for a malformed id"
    );
}
