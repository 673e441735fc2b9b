//! The seed catalog: products and prices loaded from TOML at start-up.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::objects::catalog;
use crate::state::{Price, Product, Recurring, State};

/// The catalog shipped with the crate (`stripe-sim/catalog.toml`).
pub const DEFAULT_CATALOG: &str = include_str!("../catalog.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    #[serde(default)]
    pub products: Vec<SeedProduct>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedProduct {
    pub name: String,
    pub description: Option<String>,
    #[serde(default)]
    pub marketing_features: Vec<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub prices: Vec<SeedPrice>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPrice {
    pub currency: String,
    /// Minor units.
    pub unit_amount: i64,
    /// `month` or `year` (or `day`/`week`); absent for one-time prices.
    pub interval: Option<String>,
    #[serde(default = "one")]
    pub interval_count: i64,
    pub lookup_key: Option<String>,
    pub nickname: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Becomes the product's `default_price`.
    #[serde(default)]
    pub default: bool,
}

fn one() -> i64 {
    1
}

impl Catalog {
    pub fn parse(text: &str) -> Result<Self, String> {
        let c: Self = toml::from_str(text).map_err(|e| format!("invalid catalog: {e}"))?;
        for p in &c.products {
            for price in &p.prices {
                if price.unit_amount < 0 {
                    return Err(format!("{}: unit_amount must not be negative", p.name));
                }
                if let Some(i) = &price.interval
                    && !matches!(i.as_str(), "day" | "week" | "month" | "year")
                {
                    return Err(format!("{}: unknown interval {i}", p.name));
                }
            }
        }
        Ok(c)
    }

    /// Creates the objects and their `product.created`/`price.created` events.
    pub fn seed(&self, st: &mut State) {
        for sp in &self.products {
            let pid = st.id("prod");
            let product = Product {
                id: pid.clone(),
                name: sp.name.clone(),
                description: sp.description.clone(),
                active: true,
                created: st.now,
                updated: st.now,
                metadata: sp.metadata.clone(),
                marketing_features: sp.marketing_features.clone(),
                default_price: None,
                images: Vec::new(),
                url: None,
                unit_label: None,
                statement_descriptor: None,
            };
            st.products.push(product);
            let mut price_ids = Vec::new();
            for spp in &sp.prices {
                let id = st.id("price");
                if spp.default
                    && let Some(p) = st.products.iter_mut().find(|p| p.id == pid)
                {
                    p.default_price = Some(id.clone());
                }
                st.prices.push(Price {
                    id: id.clone(),
                    product: pid.clone(),
                    active: true,
                    currency: spp.currency.to_lowercase(),
                    unit_amount: spp.unit_amount,
                    recurring: spp.interval.as_ref().map(|i| Recurring {
                        interval: i.clone(),
                        interval_count: spp.interval_count,
                    }),
                    lookup_key: spp.lookup_key.clone(),
                    nickname: spp.nickname.clone(),
                    metadata: spp.metadata.clone(),
                    created: st.now,
                    tax_behavior: "unspecified".to_owned(),
                });
                price_ids.push(id);
            }
            if let Some(p) = st.product(&pid).map(catalog::product) {
                let e = st.emit("product.created", p, None);
                st.seed_events.push(e);
            }
            for id in price_ids {
                if let Some(p) = st.price(&id).map(catalog::price) {
                    let e = st.emit("price.created", p, None);
                    st.seed_events.push(e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_catalog_has_the_four_plans() {
        let c = Catalog::parse(DEFAULT_CATALOG).expect("default catalog parses");
        let mut st = State::new(1_700_000_000, "http://x".into());
        c.seed(&mut st);
        let amounts: Vec<(Option<&str>, i64)> = st
            .prices
            .iter()
            .map(|p| (p.lookup_key.as_deref(), p.unit_amount))
            .collect();
        assert_eq!(
            amounts,
            vec![
                (Some("basic_monthly"), 900),
                (Some("basic_yearly"), 9000),
                (Some("pro_monthly"), 2900),
                (Some("pro_yearly"), 29000)
            ]
        );
        assert_eq!(st.products[1].metadata["role"], "pro");
        assert_eq!(st.products[1].metadata["trial_period_days"], "14");
        assert_eq!(st.seed_events.len(), 6);
    }

    #[test]
    fn rejects_unknown_fields() {
        assert!(Catalog::parse("[[products]]\nname='x'\ncolour='red'").is_err());
    }
}
