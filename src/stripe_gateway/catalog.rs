//! Products and prices.

use super::convert::{price_record, product_record};
use super::{GatewayError, PAGE_SIZE, PriceRecord, ProductRecord, StripeGateway};
use crate::domain::{PriceId, ProductId};
use stripe_product::price::{ListPrice, RetrievePrice};
use stripe_product::product::{ListProduct, RetrieveProduct};

/// Every product and price in the Stripe account.
pub struct StripeCatalog {
    pub products: Vec<ProductRecord>,
    pub prices: Vec<PriceRecord>,
}

impl StripeGateway {
    pub async fn list_catalog(&self) -> Result<StripeCatalog, GatewayError> {
        let products = self
            .paginate(
                "list products",
                |p: &stripe_shared::Product| p.id.to_string(),
                |after| list_page!(self, ListProduct::new().limit(PAGE_SIZE), after),
            )
            .await?;
        let prices = self
            .paginate(
                "list prices",
                |p: &stripe_shared::Price| p.id.to_string(),
                |after| list_page!(self, ListPrice::new().limit(PAGE_SIZE), after),
            )
            .await?;
        Ok(StripeCatalog {
            products: products.iter().map(product_record).collect(),
            prices: prices.iter().map(price_record).collect(),
        })
    }

    pub async fn product(&self, id: &ProductId) -> Result<ProductRecord, GatewayError> {
        let product = self
            .with_retries("retrieve product", || {
                let request = RetrieveProduct::new(id.as_str());
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(product_record(&product))
    }

    pub async fn price(&self, id: &PriceId) -> Result<PriceRecord, GatewayError> {
        let price = self
            .with_retries("retrieve price", || {
                let request = RetrievePrice::new(id.as_str());
                async move { request.send(&self.client).await }
            })
            .await?;
        Ok(price_record(&price))
    }
}
