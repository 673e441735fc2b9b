//! Hosted Checkout and Billing Portal pages driven with plain HTTP form posts.

use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_billing::subscription::RetrieveSubscription;
use stripe_checkout::checkout_session::RetrieveCheckoutSession;
use stripe_core::customer::{ListCustomer, RetrieveCustomer, RetrieveCustomerReturned};

use crate::common::*;

async fn text(resp: reqwest::Response) -> String {
    resp.text().await.expect("body")
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("location")
        .to_owned()
}

#[tokio::test]
async fn checkout_page_shows_plan_and_trial() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let s = session(&sim, &c, None, "pro_monthly", Some(14)).await;
        let resp = http()
            .get(s.url.clone().expect("url"))
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), 200);
        let html = text(resp).await;
        for needle in [
            "Simulated payment — no real money moves",
            "Pro",
            "$29.00",
            "per month",
            "14-day free trial",
            "href=\"http://app.test/pricing\"",
            "name=\"card_number\"",
            "Start trial",
        ] {
            assert!(html.contains(needle), "page lacks {needle:?}");
        }
        let missing = http()
            .get(format!("{}/checkout/cs_test_nope", sim.base_url()))
            .send()
            .await
            .expect("get");
        assert_eq!(missing.status(), 404);
    })
    .await;
}

#[tokio::test]
async fn successful_card_creates_customer_subscription_and_redirects() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let s = session(&sim, &c, None, "basic_yearly", None).await;
        let resp = pay(
            &http(),
            s.url.as_deref().expect("url"),
            "4242 4242 4242 4242",
        )
        .await;
        assert_eq!(resp.status(), 303);
        assert_eq!(
            location(&resp),
            format!("http://app.test/billing/success?session_id={}", s.id)
        );
        let done = RetrieveCheckoutSession::new(s.id.clone())
            .send(&c)
            .await
            .expect("retrieve");
        assert_eq!(
            done.status,
            Some(stripe_shared::CheckoutSessionStatus::Complete)
        );
        assert_eq!(
            done.payment_status,
            stripe_shared::CheckoutSessionPaymentStatus::Paid
        );
        assert!(done.url.is_none());
        let cus = done.customer.expect("customer created").id().clone();
        let RetrieveCustomerReturned::Customer(cus) =
            RetrieveCustomer::new(cus).send(&c).await.expect("customer")
        else {
            panic!("deleted")
        };
        assert_eq!(cus.email.as_deref(), Some("buyer@example.com"));
        let sub = RetrieveSubscription::new(done.subscription.expect("sub").id().clone())
            .send(&c)
            .await
            .expect("sub");
        assert_eq!(sub.status, stripe_shared::SubscriptionStatus::Active);
        assert_eq!(sub.metadata.len(), 0);
        let inv = stripe_billing::invoice::RetrieveInvoice::new(
            done.invoice
                .expect("invoice")
                .id()
                .clone()
                .expect("invoice id"),
        )
        .send(&c)
        .await
        .expect("invoice");
        assert_eq!(
            (inv.amount_paid, inv.status),
            (9000, Some(stripe_shared::InvoiceStatus::Paid))
        );
        // Paying again is refused: the page now says the session is complete.
        let again = pay(
            &http(),
            &format!("{}/checkout/{}", sim.base_url(), s.id),
            "4242424242424242",
        )
        .await;
        assert!(text(again).await.contains("already complete"));
    })
    .await;
}

#[tokio::test]
async fn declined_cards_show_errors_and_keep_the_session_open() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let s = session(&sim, &c, None, "basic_monthly", None).await;
        let url = s.url.clone().expect("url");
        for (card, message) in [
            ("4000000000000002", "Your card was declined."),
            ("4000000000009995", "insufficient funds"),
            ("4242424242424241", "Your card number is incorrect."),
        ] {
            let resp = pay(&http(), &url, card).await;
            assert_eq!(resp.status(), 402, "{card}");
            let html = text(resp).await;
            assert!(html.contains(message), "{card}: {message}");
        }
        let still = RetrieveCheckoutSession::new(s.id.clone())
            .send(&c)
            .await
            .expect("retrieve");
        assert_eq!(
            still.status,
            Some(stripe_shared::CheckoutSessionStatus::Open)
        );
        assert!(still.subscription.is_none());
        assert!(
            ListCustomer::new()
                .send(&c)
                .await
                .expect("list")
                .data
                .is_empty(),
            "no customer for a declined card"
        );
        let ok = pay(&http(), &url, "4242424242424242").await;
        assert_eq!(ok.status(), 303, "a good card still works afterwards");
    })
    .await;
}

#[tokio::test]
async fn authentication_step_for_3ds_cards() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let s = session(&sim, &c, None, "pro_monthly", None).await;
        let url = s.url.clone().expect("url");
        let http = http();
        let resp = pay(&http, &url, "4000000000003220").await;
        assert_eq!(resp.status(), 303);
        let auth = location(&resp);
        assert_eq!(auth, format!("/checkout/{}/authenticate", s.id));
        let page = text(
            http.get(format!("{}{auth}", sim.base_url()))
                .send()
                .await
                .expect("get"),
        )
        .await;
        assert!(page.contains("Complete authentication") && page.contains("Fail authentication"));
        let failed = http
            .post(format!("{}{auth}", sim.base_url()))
            .form(&[("action", "fail")])
            .send()
            .await
            .expect("post");
        assert_eq!(failed.status(), 402);
        assert!(text(failed).await.contains("unable to authenticate"));
        let open = RetrieveCheckoutSession::new(s.id.clone())
            .send(&c)
            .await
            .expect("retrieve");
        assert_eq!(
            open.status,
            Some(stripe_shared::CheckoutSessionStatus::Open)
        );

        let resp = pay(&http, &url, "4000000000003220").await;
        assert_eq!(location(&resp), auth);
        let done = http
            .post(format!("{}{auth}", sim.base_url()))
            .form(&[("action", "complete")])
            .send()
            .await
            .expect("post");
        assert_eq!(done.status(), 303);
        assert!(location(&done).starts_with("http://app.test/billing/success?session_id=cs_test_"));
    })
    .await;
}

#[tokio::test]
async fn portal_switch_cancel_resume_card_and_invoices() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let (cus, sub) = subscribe(&sim, &c, "basic_monthly", "4242424242424242", None).await;
        let ps = CreateBillingPortalSession::new()
            .customer(cus.as_str())
            .return_url("http://app.test/dashboard")
            .send(&c)
            .await
            .expect("portal");
        let http = http();
        let page = text(http.get(&ps.url).send().await.expect("get")).await;
        for needle in [
            "Basic",
            "$9.00",
            "Renews on",
            "Pro",
            "href=\"http://app.test/dashboard\"",
            "Invoice history",
            "visa •••• 4242",
            "Simulated payment",
        ] {
            assert!(page.contains(needle), "portal lacks {needle:?}");
        }
        let post = |path: &'static str, form: Vec<(&'static str, String)>| {
            let url = format!("{}{path}", ps.url);
            let http = http.clone();
            async move { http.post(url).form(&form).send().await.expect("post") }
        };
        let pro = sim.price_id("pro_monthly").expect("pro");
        let resp = post(
            "/switch",
            vec![("subscription", sub.clone()), ("price", pro.clone())],
        )
        .await;
        assert_eq!(resp.status(), 303);
        let s = RetrieveSubscription::new(sub.as_str())
            .send(&c)
            .await
            .expect("sub");
        assert_eq!(s.items.data[0].price.id.as_str(), pro);
        assert!(
            text(http.get(&ps.url).send().await.expect("get"))
                .await
                .contains("Switched to Pro")
        );

        post("/cancel", vec![("subscription", sub.clone())]).await;
        assert!(
            RetrieveSubscription::new(sub.as_str())
                .send(&c)
                .await
                .expect("sub")
                .cancel_at_period_end
        );
        assert!(
            text(http.get(&ps.url).send().await.expect("get"))
                .await
                .contains("Cancels on")
        );
        post("/resume", vec![("subscription", sub.clone())]).await;
        assert!(
            !RetrieveSubscription::new(sub.as_str())
                .send(&c)
                .await
                .expect("sub")
                .cancel_at_period_end
        );

        post(
            "/card",
            vec![("card_number", "4000000000000002".to_owned())],
        )
        .await;
        let page = text(http.get(&ps.url).send().await.expect("get")).await;
        assert!(
            page.contains("declined") && page.contains("visa •••• 4242"),
            "declined card not saved"
        );
        post(
            "/card",
            vec![("card_number", "5555555555554444".to_owned())],
        )
        .await;
        assert!(
            text(http.get(&ps.url).send().await.expect("get"))
                .await
                .contains("mastercard •••• 4444")
        );

        // Another customer's subscription cannot be touched from this portal session.
        let (_, other) = subscribe(&sim, &c, "basic_monthly", "4242424242424242", None).await;
        post("/cancel", vec![("subscription", other.clone())]).await;
        assert!(
            !RetrieveSubscription::new(other.as_str())
                .send(&c)
                .await
                .expect("sub")
                .cancel_at_period_end
        );

        let inv = stripe_billing::invoice::ListInvoice::new()
            .customer(cus.as_str())
            .send(&c)
            .await
            .expect("invoices");
        let hosted = inv.data[0].hosted_invoice_url.clone().expect("hosted url");
        let inv_page = http.get(&hosted).send().await.expect("invoice page");
        assert_eq!(inv_page.status(), 200);
        assert!(text(inv_page).await.contains("$9.00"));
    })
    .await;
}

#[tokio::test]
async fn payment_mode_checkout() {
    bounded(async {
        use stripe_checkout::checkout_session::{
            CreateCheckoutSession, CreateCheckoutSessionLineItems,
        };
        let sim = sim().await;
        let c = client(&sim);
        let product = stripe_product::product::CreateProduct::new("Sticker pack")
            .send(&c)
            .await
            .expect("product");
        let price = stripe_product::price::CreatePrice::new(stripe_types::Currency::EUR)
            .product(product.id.as_str())
            .unit_amount(250)
            .send(&c)
            .await
            .expect("price");
        let mut item = CreateCheckoutSessionLineItems::new();
        item.price = Some(price.id.as_str().to_owned());
        item.quantity = Some(2);
        let s = CreateCheckoutSession::new()
            .mode(stripe_shared::CheckoutSessionMode::Payment)
            .line_items(vec![item])
            .success_url("http://app.test/thanks/{CHECKOUT_SESSION_ID}")
            .customer_email("guest@example.com")
            .send(&c)
            .await
            .expect("session");
        let page = text(
            http()
                .get(s.url.clone().expect("url"))
                .send()
                .await
                .expect("get"),
        )
        .await;
        assert!(
            page.contains("€5.00") && page.contains(">Pay<"),
            "amount and button"
        );
        let resp = pay(&http(), s.url.as_deref().expect("url"), "4242424242424242").await;
        assert_eq!(location(&resp), format!("http://app.test/thanks/{}", s.id));
        let done = RetrieveCheckoutSession::new(s.id.clone())
            .send(&c)
            .await
            .expect("retrieve");
        assert_eq!(
            done.payment_status,
            stripe_shared::CheckoutSessionPaymentStatus::Paid
        );
        assert!(
            done.payment_intent
                .expect("pi")
                .id()
                .as_str()
                .starts_with("pi_")
        );
        assert!(
            done.subscription.is_none() && done.customer.is_none(),
            "guest payment"
        );
        assert_eq!(
            done.customer_details.and_then(|d| d.email).as_deref(),
            Some("buyer@example.com")
        );
    })
    .await;
}
