//! A customer's billing state: subscriptions (with the prices they use) and recent invoices.

use super::convert::{invoice_record, price_record, subscription_record};
use super::{CustomerBilling, GatewayError, PAGE_SIZE, StripeGateway};
use crate::domain::CustomerId;
use stripe_billing::invoice::ListInvoice;
use stripe_billing::subscription::{ListSubscription, ListSubscriptionStatus};

/// The dashboard shows the latest invoices only.
const RECENT_INVOICES: i64 = 12;

impl StripeGateway {
    pub async fn customer_billing(
        &self,
        customer_id: &CustomerId,
    ) -> Result<CustomerBilling, GatewayError> {
        let subscriptions = self
            .paginate(
                "list subscriptions",
                |s: &stripe_shared::Subscription| s.id.to_string(),
                |after| {
                    let request = ListSubscription::new()
                        .customer(customer_id.as_str())
                        .status(ListSubscriptionStatus::All)
                        .limit(PAGE_SIZE);
                    list_page!(self, request, after)
                },
            )
            .await?;
        let invoices = self
            .with_retries("list invoices", || {
                let request = ListInvoice::new()
                    .customer(customer_id.as_str())
                    .limit(RECENT_INVOICES);
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(CustomerBilling {
            prices: subscriptions
                .iter()
                .flat_map(|s| s.items.data.iter())
                .map(|item| price_record(&item.price))
                .collect(),
            subscriptions: subscriptions.iter().map(subscription_record).collect(),
            invoices: invoices.data.iter().filter_map(invoice_record).collect(),
        })
    }
}
