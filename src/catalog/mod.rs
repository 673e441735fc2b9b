//! What is on sale, plans and goods: their types, and on the server the in-memory snapshot, the
//! database tables and the sync from Stripe. Pages that sell plans live with billing, pages that
//! sell goods with the shop; this module has no pages. Stock is not in the snapshot (it changes with
//! every order); the shop reads it from the database.

#[cfg(feature = "ssr")]
pub mod ssr;

use crate::domain::{Interval, Money, PriceId, ProductId, Role};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanPrice {
    pub price_id: PriceId,
    pub money: Money,
    pub interval: Interval,
    pub trial_days: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub product_id: ProductId,
    pub name: String,
    pub description: Option<String>,
    pub role: Role,
    pub features: Vec<String>,
    pub monthly: Option<PlanPrice>,
    pub yearly: Option<PlanPrice>,
}

impl Plan {
    /// Whole percent saved by paying yearly instead of twelve months, when both exist in one currency.
    pub fn yearly_saving_percent(&self) -> Option<i64> {
        let (month, year) = (self.monthly.as_ref()?, self.yearly.as_ref()?);
        if month.money.currency != year.money.currency || month.money.amount <= 0 {
            return None;
        }
        let twelve = month.money.amount * 12;
        let saving = (twelve - year.money.amount) * 100 / twelve;
        (saving > 0).then_some(saving)
    }
}

/// A product sold once, from the shop, at its one-time price; a product with options (sizes) is one
/// `Good` per option, each its own price with its own stock, sharing the slug and page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Good {
    pub product_id: ProductId,
    /// Its page is `/shop/{slug}`.
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    /// A path on this site or an `https://` URL.
    pub image: Option<String>,
    pub price_id: PriceId,
    pub money: Money,
    /// Sent by post: paying for it asks where to, and adds shipping.
    pub shippable: bool,
    /// The option this price sells ("M"), for a product with options.
    pub option: Option<String>,
    /// What the product's options are ("Size").
    pub option_name: Option<String>,
}

impl Good {
    /// The name on a cart line, an order and a receipt: "Hoodie (M)" for an option.
    pub fn line_name(&self) -> String {
        match &self.option {
            Some(option) => format!("{} ({option})", self.name),
            None => self.name.clone(),
        }
    }
}

/// What is on sale, in display order. Built from the database, held in memory by
/// `ssr::CatalogStore`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    pub plans: Vec<Plan>,
    pub goods: Vec<Good>,
}

impl Catalog {
    /// The plan and price for a price id, if it is an active recurring price of a plan on sale.
    pub fn find_price(&self, price_id: &PriceId) -> Option<(&Plan, &PlanPrice)> {
        self.plans.iter().find_map(|plan| {
            [plan.monthly.as_ref(), plan.yearly.as_ref()]
                .into_iter()
                .flatten()
                .find(|p| &p.price_id == price_id)
                .map(|price| (plan, price))
        })
    }

    /// The good at `slug` (its first option, for a product with options).
    pub fn good(&self, slug: &str) -> Option<&Good> {
        self.goods.iter().find(|g| g.slug == slug)
    }

    /// Every option of the good at `slug`, in order (one entry for a good without options).
    pub fn options_of(&self, slug: &str) -> Vec<&Good> {
        self.goods.iter().filter(|g| g.slug == slug).collect()
    }

    /// One entry per product, its first option, for the shop's list.
    pub fn products(&self) -> Vec<&Good> {
        let mut seen: Vec<&str> = Vec::new();
        self.goods
            .iter()
            .filter(|g| {
                let first = !seen.contains(&g.slug.as_str());
                seen.push(&g.slug);
                first
            })
            .collect()
    }

    /// The good sold at `price_id`, if it is on sale.
    pub fn good_by_price(&self, price_id: &PriceId) -> Option<&Good> {
        self.goods.iter().find(|g| &g.price_id == price_id)
    }
}

/// A slug as the shop's URLs use it: lower-case letters, digits and single dashes, from the
/// metadata's `slug` or else the name ("Signed poster" → `signed-poster`); `None` if nothing is left.
pub fn slug_of(raw: &str) -> Option<String> {
    let mut slug = String::new();
    for c in raw.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug: String = slug.chars().take(64).collect();
    (!slug.is_empty()).then_some(slug)
}

/// An image the shop may show: a path on this site, or an `https://` URL; anything else (a
/// `javascript:` URL, a protocol-relative `//host`) is dropped.
pub fn image_of(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let local = raw.starts_with('/') && !raw.starts_with("//") && !raw.contains('\\');
    let ok = (local || raw.starts_with("https://"))
        && raw.len() <= 500
        && !raw
            .chars()
            .any(|c| c.is_control() || c == '"' || c == '<' || c == '>');
    ok.then(|| raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(id: &str, amount: i64, interval: Interval) -> PlanPrice {
        PlanPrice {
            price_id: PriceId::from(id),
            money: Money::new(amount, "usd"),
            interval,
            trial_days: None,
        }
    }

    #[test]
    fn yearly_saving_is_computed_in_integers() {
        let plan = Plan {
            product_id: ProductId::from("prod_1"),
            name: "Basic".into(),
            description: None,
            role: Role::Basic,
            features: vec![],
            monthly: Some(price("price_m", 900, Interval::Month)),
            yearly: Some(price("price_y", 9000, Interval::Year)),
        };
        assert_eq!(plan.yearly_saving_percent(), Some(16));
        let catalog = Catalog {
            plans: vec![plan],
            goods: vec![],
        };
        assert_eq!(
            catalog
                .find_price(&PriceId::from("price_y"))
                .map(|(p, pr)| (p.role, pr.interval)),
            Some((Role::Basic, Interval::Year))
        );
        assert!(
            catalog
                .find_price(&PriceId::from("price_unknown"))
                .is_none()
        );
    }

    #[test]
    fn slugs_and_images_are_safe_for_urls_and_pages() {
        assert_eq!(slug_of("Signed poster").as_deref(), Some("signed-poster"));
        assert_eq!(slug_of("  Mug -- XL! ").as_deref(), Some("mug-xl"));
        assert_eq!(slug_of("***"), None);
        assert_eq!(
            image_of("/goods/mug.svg").as_deref(),
            Some("/goods/mug.svg")
        );
        assert!(image_of("https://files.stripe.com/x.png").is_some());
        for bad in [
            "//evil.example/x.png",
            "javascript:alert(1)",
            "http://x/y.png",
            "/a\"b",
        ] {
            assert!(image_of(bad).is_none(), "{bad:?}");
        }
    }
}
