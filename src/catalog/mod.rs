//! The plans on sale: their types, and on the server the in-memory snapshot, the database tables and
//! the sync from Stripe. Pages that sell plans live with billing; this module has no pages.

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

/// The plans on sale, in display order. Built from the database, held in memory by `ssr::CatalogStore`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    pub plans: Vec<Plan>,
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
        let catalog = Catalog { plans: vec![plan] };
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
}
