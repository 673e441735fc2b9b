//! The hosted Billing Portal driven with plain HTTP form posts.

use stripe_billing::billing_portal_session::CreateBillingPortalSession;

use crate::common::*;

/// A portal session's page and its form posts.
struct Portal {
    url: String,
    http: reqwest::Client,
}

impl Portal {
    async fn open(c: &stripe::Client, customer: &str) -> Self {
        let ps = CreateBillingPortalSession::new()
            .customer(customer)
            .return_url("http://app.test/dashboard")
            .send(c)
            .await
            .expect("portal");
        Self {
            url: ps.url,
            http: http(),
        }
    }

    async fn page(&self) -> String {
        text(self.http.get(&self.url).send().await.expect("get")).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.url))
            .form(form)
            .send()
            .await
            .expect("post")
    }
}

async fn switch_to_pro(sim: &stripe_sim::Sim, c: &stripe::Client, portal: &Portal, sub: &str) {
    let pro = sim.price_id("pro_monthly").expect("pro");
    let resp = portal
        .post("/switch", &[("subscription", sub), ("price", &pro)])
        .await;
    assert_eq!(resp.status(), 303);
    let s = retrieve_subscription(c, sub).await;
    assert_eq!(s.items.data[0].price.id.as_str(), pro);
    assert!(portal.page().await.contains("Switched to Pro"));
}

async fn cancel_then_resume(c: &stripe::Client, portal: &Portal, sub: &str) {
    portal.post("/cancel", &[("subscription", sub)]).await;
    assert!(retrieve_subscription(c, sub).await.cancel_at_period_end);
    assert!(portal.page().await.contains("Cancels on"));
    portal.post("/resume", &[("subscription", sub)]).await;
    assert!(!retrieve_subscription(c, sub).await.cancel_at_period_end);
}

/// A declining card is refused and the old one kept; a good one replaces it.
async fn update_card(portal: &Portal) {
    portal
        .post("/card", &[("card_number", "4000000000000002")])
        .await;
    let page = portal.page().await;
    assert!(
        page.contains("declined") && page.contains("visa •••• 4242"),
        "declined card not saved"
    );
    portal
        .post("/card", &[("card_number", "5555555555554444")])
        .await;
    assert!(portal.page().await.contains("mastercard •••• 4444"));
}

/// The invoice history links to a hosted invoice page.
async fn hosted_invoice_page(c: &stripe::Client, portal: &Portal, customer: &str) {
    let inv = stripe_billing::invoice::ListInvoice::new()
        .customer(customer)
        .send(c)
        .await
        .expect("invoices");
    let hosted = inv.data[0].hosted_invoice_url.clone().expect("hosted url");
    let inv_page = portal.http.get(&hosted).send().await.expect("invoice page");
    assert_eq!(inv_page.status(), 200);
    assert!(text(inv_page).await.contains("$9.00"));
}

#[tokio::test]
async fn portal_switch_cancel_resume_card_and_invoices() {
    bounded(async {
        let sim = sim().await;
        let c = client(&sim);
        let (cus, sub) = subscribe(&sim, &c, "basic_monthly", "4242424242424242", None).await;
        let portal = Portal::open(&c, &cus).await;
        let page = portal.page().await;
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
        switch_to_pro(&sim, &c, &portal, &sub).await;
        cancel_then_resume(&c, &portal, &sub).await;
        update_card(&portal).await;

        // Another customer's subscription cannot be touched from this portal session.
        let (_, other) = subscribe(&sim, &c, "basic_monthly", "4242424242424242", None).await;
        portal.post("/cancel", &[("subscription", &other)]).await;
        assert!(!retrieve_subscription(&c, &other).await.cancel_at_period_end);

        hosted_invoice_page(&c, &portal, &cus).await;
    })
    .await;
}
