//! Hosted Checkout pages driven with plain HTTP form posts (the portal is in `portal.rs`).

use stripe_checkout::checkout_session::RetrieveCheckoutSession;
use stripe_core::customer::{ListCustomer, RetrieveCustomer, RetrieveCustomerReturned};

use crate::common::*;

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

/// What a completed subscription checkout created: a customer with the page's e-mail, an
/// active subscription and a paid invoice for `amount`.
async fn assert_checkout_created(
    c: &stripe::Client,
    done: stripe_shared::CheckoutSession,
    amount: i64,
) {
    let cus = done.customer.expect("customer created").id().clone();
    let RetrieveCustomerReturned::Customer(cus) =
        RetrieveCustomer::new(cus).send(c).await.expect("customer")
    else {
        panic!("deleted")
    };
    assert_eq!(cus.email.as_deref(), Some("buyer@example.com"));
    let sub = retrieve_subscription(c, done.subscription.expect("sub").id().as_str()).await;
    assert_eq!(sub.status, stripe_shared::SubscriptionStatus::Active);
    assert_eq!(sub.metadata.len(), 0);
    let invoice_id = done
        .invoice
        .expect("invoice")
        .id()
        .clone()
        .expect("invoice id");
    let inv = stripe_billing::invoice::RetrieveInvoice::new(invoice_id)
        .send(c)
        .await
        .expect("invoice");
    assert_eq!(
        (inv.amount_paid, inv.status),
        (amount, Some(stripe_shared::InvoiceStatus::Paid))
    );
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
        assert_checkout_created(&c, done, 9000).await;
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

/// A payment-mode session for two stickers at 2.50 EUR, paid by a guest.
async fn guest_sticker_session(c: &stripe::Client) -> stripe_shared::CheckoutSession {
    use stripe_checkout::checkout_session::{
        CreateCheckoutSession, CreateCheckoutSessionLineItems,
    };
    let price = one_time_price(c, "Sticker pack", stripe_types::Currency::EUR, 250).await;
    let mut item = CreateCheckoutSessionLineItems::new();
    item.price = Some(price.id.as_str().to_owned());
    item.quantity = Some(2);
    CreateCheckoutSession::new()
        .mode(stripe_shared::CheckoutSessionMode::Payment)
        .line_items(vec![item])
        .success_url("http://app.test/thanks/{CHECKOUT_SESSION_ID}")
        .customer_email("guest@example.com")
        .send(c)
        .await
        .expect("session")
}

#[tokio::test]
async fn payment_mode_checkout() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let s = guest_sticker_session(&c).await;
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
