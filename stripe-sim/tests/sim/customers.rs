//! Deleting customers: what the API answers afterwards, what happens to their subscriptions and
//! sessions, and the events it sends.

use serde_json::{Value, json};
use stripe_core::customer::*;
use stripe_shared::SubscriptionStatus;

use crate::common::*;

/// `{method} {base}{path}` on the API as a form; (status, JSON body).
async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let resp = http
        .request(method, url)
        .bearer_auth(KEY)
        .form(form)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

/// A second, trialing subscription for `customer` (the first one is active).
async fn trialing_subscription(
    sim: &stripe_sim::Sim,
    c: &stripe::Client,
    customer: &str,
) -> String {
    let s = session(sim, c, Some(customer), "pro_monthly", Some(14)).await;
    let url = s.url.clone().expect("url");
    assert_eq!(pay(&http(), &url, "4242424242424242").await.status(), 303);
    let sub = retrieve_subscription_of_session(c, s.id.as_str()).await;
    assert_eq!(
        retrieve_subscription(c, &sub).await.status,
        SubscriptionStatus::Trialing
    );
    sub
}

async fn retrieve_subscription_of_session(c: &stripe::Client, session: &str) -> String {
    stripe_checkout::checkout_session::RetrieveCheckoutSession::new(session)
        .send(c)
        .await
        .expect("session")
        .subscription
        .expect("subscription")
        .id()
        .as_str()
        .to_owned()
}

/// After the delete: the stub on retrieve, gone from list and search, 404 on update/delete.
async fn deleted_customer_is_a_stub(sim: &stripe_sim::Sim, c: &stripe::Client, cus: &str) {
    let got = RetrieveCustomer::new(cus).send(c).await.expect("retrieve");
    assert!(matches!(got, RetrieveCustomerReturned::DeletedCustomer(d) if d.id.as_str() == cus));
    let raw = api_get(&http(), sim.base_url(), &format!("/v1/customers/{cus}")).await;
    assert_eq!(
        raw,
        json!({ "id": cus, "object": "customer", "deleted": true })
    );
    let listed = ListCustomer::new().limit(100).send(c).await.expect("list");
    assert!(listed.data.iter().all(|x| x.id.as_str() != cus));
    let found = SearchCustomer::new("email:'sub@example.com'")
        .send(c)
        .await
        .expect("search");
    assert!(found.data.is_empty(), "deleted customers are not found");
    let url = format!("{}/v1/customers/{cus}", sim.base_url());
    for method in [reqwest::Method::POST, reqwest::Method::DELETE] {
        let form: &[(&str, &str)] = if method == reqwest::Method::POST {
            &[("name", "Ghost")]
        } else {
            &[]
        };
        let (status, body) = call(&http(), method, url.clone(), form).await;
        assert_eq!(status, 404);
        assert_eq!(body["error"]["code"], "resource_missing");
    }
}

#[tokio::test]
async fn deleting_a_customer_cancels_its_subscriptions_and_emits_customer_deleted() {
    bounded(async {
        let (sim, inbox) = sim_with_hook().await;
        let c = client(&sim);
        let (cus, active) = subscribe(&sim, &c, "basic_monthly", "4242424242424242", None).await;
        let trialing = trialing_subscription(&sim, &c, &cus).await;

        let deleted = DeleteCustomer::new(cus.as_str())
            .send(&c)
            .await
            .expect("delete");
        assert_eq!(
            deleted.id.as_str(),
            cus,
            "a DeletedCustomer, so `deleted: true`"
        );
        deleted_customer_is_a_stub(&sim, &c, &cus).await;

        for sub in [&active, &trialing] {
            let s = retrieve_subscription(&c, sub).await;
            assert_eq!(s.status, SubscriptionStatus::Canceled, "{sub}");
            assert_eq!(
                (s.ended_at, s.canceled_at),
                (Some(sim.now()), Some(sim.now()))
            );
        }
        let gone = inbox.wait_for_type("customer.deleted").await;
        let object = &gone.raw["data"]["object"];
        assert_eq!(object["id"], cus.as_str());
        assert_eq!(object["email"], "sub@example.com", "the customer as it was");
        assert!(object.get("deleted").is_none());
        assert!(
            sim.wait_for_deliveries(std::time::Duration::from_secs(10))
                .await
        );
        let types = inbox.types();
        let tail = &types[types.len() - 3..];
        assert_eq!(
            tail,
            [
                "customer.subscription.deleted",
                "customer.subscription.deleted",
                "customer.deleted"
            ]
        );
    })
    .await;
}

/// The error Checkout and the portal answer for a customer id they cannot use.
async fn session_error(sim: &stripe_sim::Sim, customer: &str, portal: bool) -> (u16, Value) {
    let price = sim.price_id("basic_monthly").expect("price");
    let (path, form) = if portal {
        ("/v1/billing_portal/sessions", vec![("customer", customer)])
    } else {
        let checkout = vec![
            ("mode", "subscription"),
            ("customer", customer),
            ("line_items[0][price]", price.as_str()),
            ("success_url", "http://app.test/ok"),
        ];
        ("/v1/checkout/sessions", checkout)
    };
    let url = format!("{}{path}", sim.base_url());
    call(&http(), reqwest::Method::POST, url, &form).await
}

#[tokio::test]
async fn sessions_for_a_deleted_customer_are_refused_like_unknown_ones() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let cus = customer(&c, "gone@example.com")
            .await
            .id
            .as_str()
            .to_owned();
        let open = session(&sim, &c, Some(&cus), "basic_monthly", None).await;
        let portal = stripe_billing::billing_portal_session::CreateBillingPortalSession::new()
            .customer(cus.as_str())
            .send(&c)
            .await
            .expect("portal");
        sim.act().delete_customer(&cus).expect("delete hook");

        for portal in [false, true] {
            let (status, body) = session_error(&sim, &cus, portal).await;
            let unknown = session_error(&sim, "cus_unknown", portal).await;
            assert_eq!((status, unknown.0), (404, 404), "portal: {portal}");
            assert_eq!(body["error"]["code"], "resource_missing");
            assert_eq!(body["error"]["param"], "customer");
            assert_eq!(
                body["error"]["message"],
                format!("No such customer: '{cus}'")
            );
            assert_eq!(unknown.1["error"]["code"], body["error"]["code"]);
        }
        // A session opened before the delete cannot complete any more.
        let paid = sim
            .act()
            .pay_checkout(open.id.as_str(), None, "4242424242424242");
        assert_eq!(
            paid.map_err(|e| e.code),
            Err(Some("resource_missing".to_owned()))
        );
        // Expanding the customer of an older object shows the stub, as on Stripe.
        let path = format!("/v1/checkout/sessions/{}?expand[]=customer", open.id);
        let expanded = api_get(&http(), sim.base_url(), &path).await;
        assert_eq!(expanded["customer"]["deleted"], true);
        // Nor can a portal session opened before the delete change anything.
        let card = [("card_number", "4242424242424242")];
        let posted = http()
            .post(format!("{}/card", portal.url))
            .form(&card)
            .send()
            .await;
        assert_eq!(posted.expect("post").status(), 303);
        let page = text(http().get(&portal.url).send().await.expect("get")).await;
        assert!(page.contains("No such customer"), "{page}");
        assert!(sim.act().delete_customer(&cus).is_err(), "already deleted");
    })
    .await;
}
