//! The Stripe side of a sync: one bounded read of a customer's billing state.

use super::Billing;
use crate::domain::{CustomerId, ProductId};
use crate::error::AppResult;
use crate::stripe_gateway::{CustomerBilling, ProductRecord};

/// One read of Stripe for a customer: billing state plus the products its prices belong to that the
/// catalog does not know yet (a price can be newer than our last catalog sync).
pub(super) enum StripeState {
    Billing {
        billing: CustomerBilling,
        new_products: Vec<ProductRecord>,
    },
    /// Stripe no longer has the customer (deleted in the dashboard).
    CustomerDeleted,
}

impl Billing {
    /// One read of the customer's billing state; `sync_round` bounds it with the sync deadline.
    pub(super) async fn read_stripe(&self, customer_id: &CustomerId) -> AppResult<StripeState> {
        let billing = match self.gateway.customer_billing(customer_id).await {
            Ok(billing) => billing,
            // Deleted in Stripe (L14): unbind it so that the user can buy again.
            Err(e) if e.is_missing_customer() => return Ok(StripeState::CustomerDeleted),
            Err(e) => return Err(e.into()),
        };
        let catalog = self.catalog.current();
        let mut missing: Vec<&ProductId> = billing
            .prices
            .iter()
            .map(|p| &p.product_id)
            .filter(|id| !catalog.plans.iter().any(|plan| &plan.product_id == *id))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        let mut new_products = Vec::new();
        for product_id in missing {
            match self.gateway.product(product_id).await {
                Ok(product) => new_products.push(product),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(StripeState::Billing {
            billing,
            new_products,
        })
    }
}
