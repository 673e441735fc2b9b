//! Shipping: the countries the shop sends parcels to, the rates it offers (configured in
//! `SHIPPING_RATES`), and an address as Stripe collected it.

use super::Money;
use std::fmt;
use std::str::FromStr;

/// An ISO 3166-1 alpha-2 country code, upper case ("US", "DE").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Country(String);

impl Country {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Country {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let code = raw.trim().to_ascii_uppercase();
        if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(code))
        } else {
            Err(format!("{raw:?} is not a two-letter country code"))
        }
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How long a parcel takes, in business days (Stripe's `delivery_estimate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryEstimate {
    pub min_days: u32,
    pub max_days: u32,
}

impl fmt::Display for DeliveryEstimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min_days == self.max_days {
            write!(f, "{} business days", self.min_days)
        } else {
            write!(f, "{}-{} business days", self.min_days, self.max_days)
        }
    }
}

/// One rate the shop offers: a flat amount per order in one currency, free from a subtotal if
/// `free_from` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippingRate {
    pub name: String,
    pub amount: Money,
    /// Minor units of `amount`'s currency: orders whose goods cost at least this ship free.
    pub free_from: Option<i64>,
    pub delivery: Option<DeliveryEstimate>,
}

impl ShippingRate {
    /// What this rate costs for goods worth `subtotal` (minor units of the rate's currency).
    pub fn amount_for(&self, subtotal: i64) -> i64 {
        match self.free_from {
            Some(threshold) if subtotal >= threshold => 0,
            _ => self.amount.amount,
        }
    }
}

/// Stripe offers at most five shipping options on one Checkout Session.
pub const MAX_SHIPPING_RATES: usize = 5;

/// Parses `SHIPPING_RATES`: rates separated by `;`, each `Name=AMOUNT CURRENCY` followed by any of
/// `, A-B days` (business days) and `, free from AMOUNT` (minor units, same currency). Example:
/// `Standard=500 usd, 3-5 days, free from 5000; Express=1500 usd, 1-2 days`.
pub fn parse_shipping_rates(raw: &str) -> Result<Vec<ShippingRate>, String> {
    let rates = raw
        .split(';')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(parse_rate)
        .collect::<Result<Vec<_>, _>>()?;
    for currency in rates.iter().map(|r| &r.amount.currency) {
        let same = rates
            .iter()
            .filter(|r| &r.amount.currency == currency)
            .count();
        if same > MAX_SHIPPING_RATES {
            return Err(format!(
                "at most {MAX_SHIPPING_RATES} rates per currency ({currency} has {same})"
            ));
        }
    }
    Ok(rates)
}

fn parse_rate(raw: &str) -> Result<ShippingRate, String> {
    let (name, rest) = raw
        .split_once('=')
        .ok_or_else(|| format!("{raw:?}: write Name=AMOUNT CURRENCY"))?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(format!(
            "{raw:?}: a rate needs a name of 1 to 100 characters"
        ));
    }
    let mut parts = rest.split(',').map(str::trim);
    let amount = parse_money(parts.next().unwrap_or_default()).ok_or_else(|| {
        format!("{raw:?}: the amount is minor units and a currency, like 500 usd")
    })?;
    let mut rate = ShippingRate {
        name: name.to_owned(),
        amount,
        free_from: None,
        delivery: None,
    };
    for part in parts {
        if let Some(days) = part.strip_suffix("days").map(str::trim) {
            rate.delivery = Some(parse_days(days).ok_or_else(|| {
                format!("{raw:?}: delivery is a range of business days, like 3-5 days")
            })?);
        } else if let Some(threshold) = part.strip_prefix("free from") {
            rate.free_from = Some(
                threshold
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| format!("{raw:?}: free from takes an amount in minor units"))?,
            );
        } else {
            return Err(format!("{raw:?}: {part:?} is neither days nor free from"));
        }
    }
    Ok(rate)
}

fn parse_money(raw: &str) -> Option<Money> {
    let (amount, currency) = raw.split_once(' ')?;
    let amount = amount.trim().parse::<i64>().ok().filter(|n| *n >= 0)?;
    let currency = currency.trim();
    (currency.len() == 3 && currency.chars().all(|c| c.is_ascii_alphabetic()))
        .then(|| Money::new(amount, currency))
}

fn parse_days(raw: &str) -> Option<DeliveryEstimate> {
    let (min, max) = raw.split_once('-').unwrap_or((raw, raw));
    let (min_days, max_days) = (min.trim().parse().ok()?, max.trim().parse().ok()?);
    (min_days >= 1 && min_days <= max_days && max_days <= 60)
        .then_some(DeliveryEstimate { min_days, max_days })
}

/// A postal address with the recipient, as Stripe collected it (every part as Stripe sent it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShippingAddress {
    pub name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub state: Option<String>,
    pub postal_code: String,
    pub country: String,
}

impl ShippingAddress {
    /// The address as it is written on a parcel, one line each.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![self.name.clone(), self.line1.clone()];
        lines.extend(self.line2.clone().filter(|l| !l.is_empty()));
        let place = [
            Some(self.postal_code.as_str()),
            Some(self.city.as_str()),
            self.state.as_deref(),
        ]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
        lines.push(place);
        lines.push(self.country.clone());
        lines.retain(|l| !l.is_empty());
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_with_estimates_and_a_free_threshold() {
        let rates = parse_shipping_rates(
            "Standard=500 usd, 3-5 days, free from 5000; Express=1500 USD, 1-2 days; Post=800 jpy",
        )
        .expect("rates");
        assert_eq!(rates.len(), 3);
        assert_eq!(rates[0].name, "Standard");
        assert_eq!(rates[0].amount, Money::new(500, "usd"));
        assert_eq!(rates[0].amount_for(4999), 500);
        assert_eq!(rates[0].amount_for(5000), 0);
        assert_eq!(rates[1].amount_for(100_000), 1500, "express is never free");
        assert_eq!(
            rates[1].delivery.map(|d| d.to_string()).as_deref(),
            Some("1-2 business days")
        );
        assert_eq!(rates[2].amount.currency, "jpy");
        assert_eq!(rates[2].delivery, None);
    }

    #[test]
    fn bad_rates_say_what_is_wrong() {
        for bad in [
            "Standard",
            "=500 usd",
            "Standard=5.00 usd",
            "Standard=500 dollars",
            "Standard=-5 usd",
            "Standard=500 usd, 5-3 days",
            "Standard=500 usd, free from lots",
            "Standard=500 usd, tomorrow",
        ] {
            assert!(parse_shipping_rates(bad).is_err(), "{bad:?}");
        }
        let six = (0..6)
            .map(|i| format!("R{i}=1 usd"))
            .collect::<Vec<_>>()
            .join(";");
        assert!(parse_shipping_rates(&six).is_err());
    }

    #[test]
    fn countries_are_two_letters_and_addresses_print_as_on_a_parcel() {
        assert_eq!(
            "de".parse::<Country>().map(|c| c.to_string()),
            Ok("DE".into())
        );
        assert!("DEU".parse::<Country>().is_err());
        assert!("1A".parse::<Country>().is_err());
        let address = ShippingAddress {
            name: "Ada Lovelace".into(),
            line1: "1 Main St".into(),
            line2: Some(String::new()),
            city: "Springfield".into(),
            state: Some("IL".into()),
            postal_code: "62701".into(),
            country: "US".into(),
        };
        assert_eq!(
            address.lines(),
            ["Ada Lovelace", "1 Main St", "62701 Springfield IL", "US"]
        );
    }
}
