//! The seed catalog: products and prices loaded from TOML at start-up.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::model::{Price, Product, Recurring};
use crate::render::catalog as render;
use crate::store::Store;

/// Where the seed catalog comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CatalogSource {
    /// The catalog shipped with the crate (`stripe-sim/catalog.toml`).
    #[default]
    Default,
    /// A TOML file in the same format.
    Path(PathBuf),
    /// TOML text.
    Toml(String),
    /// No products or prices.
    Empty,
}

/// The catalog shipped with the crate (`stripe-sim/catalog.toml`).
pub const DEFAULT_CATALOG: &str = include_str!("../catalog.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Catalog {
    #[serde(default)]
    pub(crate) products: Vec<SeedProduct>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeedProduct {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) marketing_features: Vec<String>,
    #[serde(default)]
    pub(crate) metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) prices: Vec<SeedPrice>,
    /// Stripe's product tax code (`txcd_…`), used by automatic tax.
    pub(crate) tax_code: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeedPrice {
    pub(crate) currency: String,
    /// Minor units.
    pub(crate) unit_amount: i64,
    /// `month` or `year` (or `day`/`week`); absent for one-time prices.
    pub(crate) interval: Option<String>,
    #[serde(default = "one")]
    pub(crate) interval_count: i64,
    pub(crate) lookup_key: Option<String>,
    pub(crate) nickname: Option<String>,
    #[serde(default)]
    pub(crate) metadata: BTreeMap<String, String>,
    /// Becomes the product's `default_price`.
    #[serde(default)]
    pub(crate) default: bool,
    /// `exclusive`, `inclusive` or (absent) `unspecified`.
    pub(crate) tax_behavior: Option<String>,
}

fn one() -> i64 {
    1
}

impl Catalog {
    /// Reads and parses the catalog; `None` for [`CatalogSource::Empty`].
    pub(crate) fn load(source: &CatalogSource) -> Result<Option<Self>, String> {
        let text = match source {
            CatalogSource::Default => DEFAULT_CATALOG.to_owned(),
            CatalogSource::Path(path) => {
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?
            }
            CatalogSource::Toml(toml) => toml.clone(),
            CatalogSource::Empty => return Ok(None),
        };
        Self::parse(&text).map(Some)
    }

    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let c: Self = toml::from_str(text).map_err(|e| format!("invalid catalog: {e}"))?;
        for p in &c.products {
            for price in &p.prices {
                if price.unit_amount < 0 {
                    return Err(format!("{}: unit_amount must not be negative", p.name));
                }
                if let Some(b) = &price.tax_behavior
                    && !matches!(b.as_str(), "exclusive" | "inclusive" | "unspecified")
                {
                    return Err(format!("{}: unknown tax_behavior {b}", p.name));
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
    pub(crate) fn seed(&self, store: &mut Store) {
        for sp in &self.products {
            let pid = store.id("prod");
            let product = Product {
                description: sp.description.clone(),
                metadata: sp.metadata.clone(),
                marketing_features: sp.marketing_features.clone(),
                tax_code: sp.tax_code.clone(),
                ..Product::new(pid.clone(), sp.name.clone(), store.now)
            };
            store.products.push(product);
            let mut price_ids = Vec::new();
            for spp in &sp.prices {
                let id = store.id("price");
                if spp.default
                    && let Some(p) = store.products.iter_mut().find(|p| p.id == pid)
                {
                    p.default_price = Some(id.clone());
                }
                store.prices.push(Price {
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
                    created: store.now,
                    tax_behavior: spp
                        .tax_behavior
                        .clone()
                        .unwrap_or_else(|| "unspecified".to_owned()),
                });
                price_ids.push(id);
            }
            if let Some(p) = store.product(&pid).map(render::product) {
                let e = store.emit("product.created", p, None);
                store.seed_events.push(e);
            }
            for id in price_ids {
                if let Some(p) = store.price(&id).map(render::price) {
                    let e = store.emit("price.created", p, None);
                    store.seed_events.push(e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_catalog_has_the_plans_and_the_goods() {
        let c = Catalog::parse(DEFAULT_CATALOG).expect("default catalog parses");
        let mut store = Store::new(1_700_000_000, "http://x".into());
        c.seed(&mut store);
        let amounts: Vec<(Option<&str>, i64)> = store
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
                (Some("pro_yearly"), 29000),
                (Some("goods_mug"), 1400),
                (Some("goods_stickers"), 500),
                (Some("goods_hoodie_s"), 4900),
                (Some("goods_hoodie"), 4900),
                (Some("goods_hoodie_l"), 4900),
                (Some("goods_poster"), 2500),
            ]
        );
        assert_eq!(store.products[1].metadata["role"], "pro");
        assert_eq!(store.products[1].metadata["trial_period_days"], "14");
        // 6 products and 10 prices, each announced.
        assert_eq!(store.seed_events.len(), 16);
        let goods: Vec<_> = store.products[2..].iter().collect();
        let slugs: Vec<&str> = goods.iter().map(|p| p.metadata["slug"].as_str()).collect();
        assert_eq!(slugs, ["mug", "stickers", "hoodie", "poster"]);
        for p in goods {
            assert_eq!(p.metadata["kind"], "goods");
            assert!(!p.metadata.contains_key("role"));
            let price = p.default_price.as_deref().and_then(|id| store.price(id));
            assert!(price.is_some_and(|price| price.recurring.is_none()));
        }
        assert_eq!(store.products[5].metadata["stock"], "1");
        assert_eq!(store.products[2].metadata["image"], "/goods/mug.svg");
        // The hoodie's sizes: one price each, with its own stock; the mug is taxed as goods.
        let sizes: Vec<(&str, &str)> = store
            .prices
            .iter()
            .filter(|p| p.product == store.products[4].id)
            .map(|p| (p.metadata["option"].as_str(), p.metadata["stock"].as_str()))
            .collect();
        assert_eq!(sizes, [("S", "3"), ("M", "10"), ("L", "0")]);
        assert_eq!(store.products[2].tax_code.as_deref(), Some("txcd_99999999"));
        assert!(store.prices.iter().all(|p| p.tax_behavior == "exclusive"));
    }

    #[test]
    fn rejects_unknown_fields() {
        assert!(Catalog::parse("[[products]]\nname='x'\ncolour='red'").is_err());
    }
}
