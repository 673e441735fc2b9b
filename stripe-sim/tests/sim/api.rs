//! Every endpoint through async-stripe rc.10 (so responses must deserialize into its types).

use std::collections::HashMap;

use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_billing::invoice::{ListInvoice, RetrieveInvoice};
use stripe_billing::subscription::*;
use stripe_checkout::checkout_session::*;
use stripe_core::customer::*;
use stripe_core::event::{ListEvent, RetrieveEvent};
use stripe_product::price::*;
use stripe_product::product::*;

use crate::common::*;

/// The seeded prices, filtered by lookup key, with their products expanded.
async fn seeded_prices_expand_their_products(c: &stripe::Client) {
    let seeded = ListPrice::new()
        .active(true)
        .lookup_keys(vec!["basic_monthly".to_owned(), "pro_yearly".to_owned()])
        .expand(vec!["data.product".to_owned()])
        .send(c)
        .await
        .expect("list");
    assert_eq!(seeded.data.len(), 2);
    for p in &seeded.data {
        let product = p.product.as_object().expect("expanded product");
        assert!(matches!(
            product.metadata.get("role").map(String::as_str),
            Some("basic" | "pro")
        ));
    }
    let pro_yearly = seeded
        .data
        .iter()
        .find(|p| p.lookup_key.as_deref() == Some("pro_yearly"))
        .expect("pro yearly");
    assert_eq!(pro_yearly.unit_amount, Some(29000));
    assert_eq!(
        pro_yearly.recurring.as_ref().map(|r| r.interval.as_str()),
        Some("year")
    );
}

/// Create, retrieve, update (deactivate) and list products.
async fn product_lifecycle(c: &stripe::Client) -> stripe_shared::Product {
    let product = CreateProduct::new("Team")
        .description("For teams")
        .metadata(HashMap::from([("role".to_owned(), "team".to_owned())]))
        .send(c)
        .await
        .expect("create product");
    assert!(product.id.as_str().starts_with("prod_"));
    let got = RetrieveProduct::new(product.id.clone())
        .send(c)
        .await
        .expect("retrieve");
    assert_eq!(got.name, "Team");
    let updated = UpdateProduct::new(product.id.clone())
        .name("Team+")
        .active(false)
        .send(c)
        .await
        .expect("update");
    assert_eq!(updated.name, "Team+");
    assert!(!updated.active);
    let active = ListProduct::new()
        .active(true)
        .send(c)
        .await
        .expect("list products");
    assert!(active.data.iter().all(|p| p.active));
    assert_eq!(
        active.data.len(),
        6,
        "only the seeded products (2 plans, 4 goods) are active"
    );
    product
}

/// Create, update, retrieve and list a recurring price of `product`.
async fn price_lifecycle(c: &stripe::Client, product: &stripe_shared::Product) {
    let price = CreatePrice::new(stripe_types::Currency::USD)
        .product(product.id.as_str())
        .unit_amount(4900)
        .recurring(CreatePriceRecurring::new(
            CreatePriceRecurringInterval::Month,
        ))
        .lookup_key("team_monthly")
        .send(c)
        .await
        .expect("create price");
    assert_eq!(price.unit_amount, Some(4900));
    let price = UpdatePrice::new(price.id.clone())
        .nickname("Team monthly")
        .send(c)
        .await
        .expect("update price");
    assert_eq!(price.nickname.as_deref(), Some("Team monthly"));
    let got = RetrievePrice::new(price.id.clone())
        .send(c)
        .await
        .expect("retrieve price");
    assert_eq!(got.lookup_key.as_deref(), Some("team_monthly"));
    let by_product = ListPrice::new()
        .product(product.id.as_str())
        .send(c)
        .await
        .expect("list by product");
    assert_eq!(by_product.data.len(), 1);
}

#[tokio::test]
async fn products_and_prices() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        seeded_prices_expand_their_products(&c).await;
        let product = product_lifecycle(&c).await;
        price_lifecycle(&c, &product).await;
    })
    .await;
}

#[tokio::test]
async fn customers_list_and_search() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let a = CreateCustomer::new()
            .email("ann@example.com")
            .metadata(HashMap::from([("user_id".to_owned(), "42".to_owned())]))
            .send(&c)
            .await
            .expect("create");
        let _b = CreateCustomer::new()
            .email("bob@example.com")
            .send(&c)
            .await
            .expect("create");
        assert!(a.id.as_str().starts_with("cus_"));
        let got = RetrieveCustomer::new(a.id.clone())
            .send(&c)
            .await
            .expect("retrieve");
        let RetrieveCustomerReturned::Customer(got) = got else {
            panic!("customer was not deleted")
        };
        assert_eq!(got.email.as_deref(), Some("ann@example.com"));
        let upd = UpdateCustomer::new(a.id.clone())
            .name("Ann")
            .email("ann@new.example")
            .send(&c)
            .await
            .expect("update");
        assert_eq!(upd.name.as_deref(), Some("Ann"));
        assert_eq!(
            upd.email.as_deref(),
            Some("ann@new.example"),
            "the app carries a changed address"
        );
        let list = ListCustomer::new()
            .email("bob@example.com")
            .send(&c)
            .await
            .expect("list");
        assert_eq!(list.data.len(), 1);
        let found = SearchCustomer::new("metadata['user_id']:'42'")
            .send(&c)
            .await
            .expect("search");
        assert_eq!(
            found.data.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            vec![a.id.as_str()]
        );
        let by_email = SearchCustomer::new("email:'bob@example.com'")
            .send(&c)
            .await
            .expect("search email");
        assert_eq!(by_email.data.len(), 1);
        let none = SearchCustomer::new("metadata['user_id']:'7'")
            .send(&c)
            .await
            .expect("search none");
        assert!(none.data.is_empty());
    })
    .await;
}

/// A subscription-mode session for `customer`, retrieved with `line_items` and `customer`
/// expanded, and its line items listed.
async fn subscription_session_with_expansions(
    sim: &stripe_sim::Sim,
    c: &stripe::Client,
    customer: &stripe_shared::Customer,
) {
    let s = session(sim, c, Some(customer.id.as_str()), "pro_monthly", Some(14)).await;
    assert!(s.id.as_str().starts_with("cs_test_"));
    assert_eq!(
        s.url.as_deref(),
        Some(format!("{}/checkout/{}", sim.base_url(), s.id).as_str())
    );
    assert_eq!(s.amount_total, Some(2900));
    assert_eq!(s.client_reference_id.as_deref(), Some("42"));
    let got = RetrieveCheckoutSession::new(s.id.clone())
        .expand(vec!["line_items".to_owned(), "customer".to_owned()])
        .send(c)
        .await
        .expect("retrieve");
    assert_eq!(
        got.customer
            .as_ref()
            .and_then(|c| c.as_object())
            .and_then(|c| c.email.as_deref()),
        Some("cs@example.com")
    );
    let items = got.line_items.expect("expanded line items");
    assert_eq!(items.data.len(), 1);
    let lines = ListLineItemsCheckoutSession::new(s.id.clone())
        .send(c)
        .await
        .expect("line items");
    assert_eq!(lines.data[0].amount_total, 2900);
    assert_eq!(lines.data[0].description.as_deref(), Some("Pro"));
}

/// Payment mode with a one-time price; the session expires once.
async fn payment_session_expires(c: &stripe::Client) {
    let once = one_time_price(c, "Sticker", stripe_types::Currency::USD, 500).await;
    let mut item = CreateCheckoutSessionLineItems::new();
    item.price = Some(once.id.as_str().to_owned());
    item.quantity = Some(3);
    let pay = CreateCheckoutSession::new()
        .mode(stripe_shared::CheckoutSessionMode::Payment)
        .line_items(vec![item])
        .success_url("http://app.test/ok")
        .send(c)
        .await
        .expect("payment session");
    assert_eq!(pay.amount_total, Some(1500));
    let expired = ExpireCheckoutSession::new(pay.id.clone())
        .send(c)
        .await
        .expect("expire");
    assert_eq!(
        expired.status,
        Some(stripe_shared::CheckoutSessionStatus::Expired)
    );
    assert!(expired.url.is_none());
    let again = ExpireCheckoutSession::new(pay.id.clone()).send(c).await;
    assert!(again.is_err(), "an expired session cannot expire again");
}

#[tokio::test]
async fn checkout_sessions() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let cus = customer(&c, "cs@example.com").await;
        subscription_session_with_expansions(&sim, &c, &cus).await;
        payment_session_expires(&c).await;
        let listed = ListCheckoutSession::new()
            .customer(cus.id.as_str())
            .send(&c)
            .await
            .expect("list");
        assert_eq!(listed.data.len(), 1);
    })
    .await;
}

/// Upgrade to Pro monthly with `always_invoice`: the proration is invoiced and paid at once.
async fn upgrade_invoices_the_proration(
    sim: &stripe_sim::Sim,
    c: &stripe::Client,
    sub_id: &str,
    item_id: &str,
    cus: &str,
) {
    let mut up = UpdateSubscriptionItems::new();
    up.id = Some(item_id.to_owned());
    up.price = Some(sim.price_id("pro_monthly").expect("pro"));
    let sub = UpdateSubscription::new(sub_id)
        .items(vec![up])
        .proration_behavior(UpdateSubscriptionProrationBehavior::AlwaysInvoice)
        .send(c)
        .await
        .expect("update");
    assert_eq!(
        sub.items.data[0].price.id.as_str(),
        sim.price_id("pro_monthly").expect("pro")
    );
    let invoices = ListInvoice::new()
        .subscription(sub_id)
        .send(c)
        .await
        .expect("invoices");
    assert_eq!(invoices.data.len(), 2, "first invoice + proration invoice");
    let proration = &invoices.data[0];
    assert_eq!(
        proration.total,
        2900 - 900,
        "full-period proration on day one"
    );
    assert_eq!(proration.status, Some(stripe_shared::InvoiceStatus::Paid));
    let got = RetrieveInvoice::new(proration.id.clone().expect("id"))
        .send(c)
        .await
        .expect("invoice");
    assert_eq!(
        got.customer.as_ref().map(|c| c.id().as_str().to_owned()),
        Some(cus.to_owned())
    );
}

/// Cancel at period end, open a portal session, then cancel now.
async fn cancel_with_portal_in_between(
    sim: &stripe_sim::Sim,
    c: &stripe::Client,
    sub_id: &str,
    cus: &str,
) {
    let sub = UpdateSubscription::new(sub_id)
        .cancel_at_period_end(true)
        .send(c)
        .await
        .expect("cancel at end");
    assert!(sub.cancel_at_period_end);
    let listed = ListSubscription::new()
        .customer(cus)
        .status(ListSubscriptionStatus::All)
        .send(c)
        .await
        .expect("list");
    assert_eq!(listed.data.len(), 1);

    let portal = CreateBillingPortalSession::new()
        .customer(cus)
        .return_url("http://app.test/dashboard")
        .send(c)
        .await
        .expect("portal");
    assert!(portal.id.as_str().starts_with("bps_"));
    assert_eq!(
        portal.url,
        format!("{}/portal/{}", sim.base_url(), portal.id)
    );

    let canceled = CancelSubscription::new(sub_id)
        .send(c)
        .await
        .expect("cancel");
    assert_eq!(canceled.status, stripe_shared::SubscriptionStatus::Canceled);
    let live = ListSubscription::new()
        .customer(cus)
        .send(c)
        .await
        .expect("list default");
    assert!(live.data.is_empty(), "default list excludes canceled");
}

#[tokio::test]
async fn subscriptions_invoices_portal_and_events() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let (cus, sub_id) = subscribe(&sim, &c, "basic_monthly", "4242424242424242", None).await;
        let sub = retrieve_subscription(&c, &sub_id).await;
        assert_eq!(sub.status, stripe_shared::SubscriptionStatus::Active);
        let item = &sub.items.data[0];
        assert_eq!(item.current_period_start, sim.now());
        assert!(item.current_period_end > item.current_period_start + 27 * 86_400);

        upgrade_invoices_the_proration(&sim, &c, &sub_id, item.id.as_str(), &cus).await;
        cancel_with_portal_in_between(&sim, &c, &sub_id, &cus).await;

        let events = ListEvent::new()
            .type_("customer.subscription.*")
            .send(&c)
            .await
            .expect("events");
        assert!(events.data.len() >= 3);
        let first = &events.data[0];
        let again = RetrieveEvent::new(first.id.clone())
            .send(&c)
            .await
            .expect("event");
        assert_eq!(again.type_, first.type_);
        assert_eq!(
            first.type_.as_str(),
            "customer.subscription.deleted",
            "newest first"
        );
    })
    .await;
}
