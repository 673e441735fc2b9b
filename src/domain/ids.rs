//! Identifiers. Ours (`UserId`) and Stripe's (`cus_…`, `price_…`), each its own type so one cannot be
//! passed where another is meant. Ids that come from Stripe or from our database are trusted
//! (`From<String>`); ids that come from a request are checked with `parse` first.

use std::fmt;

/// Our user's primary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
pub struct UserId(i64);

impl UserId {
    pub fn new(id: i64) -> Self {
        Self(id)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Longest id we accept from input; Stripe's are far shorter.
const MAX_ID_LEN: usize = 255;

macro_rules! stripe_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(String);

        impl $name {
            /// An id from a request: Stripe's shape (the prefix, then letters, digits and
            /// underscores), or `None`.
            pub fn parse(raw: &str) -> Option<Self> {
                let rest = raw.strip_prefix($prefix)?;
                let well_formed = raw.len() <= MAX_ID_LEN
                    && !rest.is_empty()
                    && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                well_formed.then(|| Self(raw.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

stripe_id!(
    /// A Stripe customer, `cus_…`; one per user of ours.
    CustomerId,
    "cus_"
);
stripe_id!(
    /// A Stripe price, `price_…`.
    PriceId,
    "price_"
);
stripe_id!(
    /// A Stripe product, `prod_…`.
    ProductId,
    "prod_"
);
stripe_id!(
    /// A Stripe Checkout Session, `cs_…`.
    CheckoutSessionId,
    "cs_"
);
stripe_id!(
    /// A Stripe event, `evt_…`.
    EventId,
    "evt_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_ids_must_have_stripes_shape() {
        assert!(CheckoutSessionId::parse("cs_test_a1B2").is_some());
        assert!(PriceId::parse("price_1Pro").is_some());
        for bad in ["", "cs_", "cus_123", "cs_a/b", "cs_a b", "cs_a%2F", "cs_é"] {
            assert!(CheckoutSessionId::parse(bad).is_none(), "{bad:?}");
        }
        assert!(PriceId::parse(&format!("price_{}", "a".repeat(300))).is_none());
    }
}
