use super::UnknownName;
use std::fmt;
use std::str::FromStr;

/// A Stripe subscription's status. The one place that says what each status means for access,
/// for a new checkout and for the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriptionStatus {
    Active,
    Trialing,
    PastDue,
    Unpaid,
    Canceled,
    Incomplete,
    IncompleteExpired,
    Paused,
}

impl SubscriptionStatus {
    pub const ALL: [SubscriptionStatus; 8] = [
        Self::Active,
        Self::Trialing,
        Self::PastDue,
        Self::Unpaid,
        Self::Canceled,
        Self::Incomplete,
        Self::IncompleteExpired,
        Self::Paused,
    ];

    /// Stripe's name, which is also what the database stores.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Trialing => "trialing",
            Self::PastDue => "past_due",
            Self::Unpaid => "unpaid",
            Self::Canceled => "canceled",
            Self::Incomplete => "incomplete",
            Self::IncompleteExpired => "incomplete_expired",
            Self::Paused => "paused",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Trialing => "Free trial",
            Self::PastDue => "Payment overdue",
            Self::Unpaid => "Unpaid",
            Self::Canceled => "Canceled",
            Self::Incomplete => "Awaiting payment",
            Self::IncompleteExpired => "Expired",
            Self::Paused => "Paused",
        }
    }

    /// The subscription's tier is granted. `past_due` keeps access during Stripe's retry window.
    pub fn grants_access(self) -> bool {
        matches!(self, Self::Active | Self::Trialing | Self::PastDue)
    }

    /// The last payment failed and Stripe is still trying or has given up (the dashboard says so).
    pub fn payment_failed(self) -> bool {
        matches!(self, Self::PastDue | Self::Unpaid)
    }

    /// The subscription is not over: its owner manages it in the portal instead of buying a second one.
    pub fn blocks_new_checkout(self) -> bool {
        !matches!(self, Self::Canceled | Self::IncompleteExpired)
    }

    /// The dashboard shows this subscription before any ended one.
    pub fn is_billing(self) -> bool {
        self.grants_access() || self.payment_failed()
    }
}

impl fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SubscriptionStatus {
    type Err = UnknownName;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
            .ok_or_else(|| UnknownName::new("subscription status", value))
    }
}

/// For `#[sqlx(try_from = "String")]` on rows that carry a status column.
impl TryFrom<String> for SubscriptionStatus {
    type Error = UnknownName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::SubscriptionStatus as S;

    #[test]
    fn statuses_round_trip() {
        for status in S::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        assert!("expired".parse::<S>().is_err());
    }

    #[test]
    fn what_each_status_means() {
        let access: Vec<S> = S::ALL.into_iter().filter(|s| s.grants_access()).collect();
        assert_eq!(access, [S::Active, S::Trialing, S::PastDue]);
        let open: Vec<S> = S::ALL
            .into_iter()
            .filter(|s| s.blocks_new_checkout())
            .collect();
        assert_eq!(
            open,
            [
                S::Active,
                S::Trialing,
                S::PastDue,
                S::Unpaid,
                S::Incomplete,
                S::Paused
            ]
        );
        let billing: Vec<S> = S::ALL.into_iter().filter(|s| s.is_billing()).collect();
        assert_eq!(billing, [S::Active, S::Trialing, S::PastDue, S::Unpaid]);
        assert!(S::Unpaid.payment_failed() && !S::Unpaid.grants_access());
    }
}
