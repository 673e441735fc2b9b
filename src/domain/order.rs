//! Orders of the shop: their id, their status and the quantities a cart may hold.

use super::UnknownName;
use std::fmt;
use std::str::FromStr;

/// Our order's primary key. Shown in URLs (`/shop/orders/42`); only its owner may open it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
pub struct OrderId(i64);

impl OrderId {
    pub fn new(id: i64) -> Self {
        Self(id)
    }

    pub fn get(self) -> i64 {
        self.0
    }

    /// An id from a URL: a positive whole number, or `None`.
    pub fn parse(raw: &str) -> Option<Self> {
        raw.parse::<i64>().ok().filter(|id| *id > 0).map(Self)
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How an order is paid (`orders.payment_flow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentFlow {
    /// Stripe's hosted Checkout page.
    Checkout,
    /// A PaymentIntent confirmed on our own page with Stripe.js.
    Intent,
}

impl PaymentFlow {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentFlow::Checkout => "checkout",
            PaymentFlow::Intent => "intent",
        }
    }
}

impl FromStr for PaymentFlow {
    type Err = UnknownName;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "checkout" => Ok(Self::Checkout),
            "intent" => Ok(Self::Intent),
            other => Err(UnknownName::new("payment flow", other)),
        }
    }
}

impl TryFrom<String> for PaymentFlow {
    type Error = UnknownName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

/// Where an order's payment is. It only moves forward along `path_to`: `Pending` → `Paid` →
/// `PartiallyRefunded` → `Refunded`, or `Pending` → `Expired` | `Failed`, the two ends that give
/// the reserved stock back. A sync that read Stripe before a newer one never moves it back.
///
/// This is the payment status only. Fulfilment (shipped, delivered) is a column of its own beside it
/// (`orders.fulfilment`), so that shipping an order can never take it off the path a refund walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    Pending,
    Paid,
    PartiallyRefunded,
    Refunded,
    Expired,
    Failed,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
            Self::Expired => "expired",
            Self::Failed => "failed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Awaiting payment",
            Self::Paid => "Paid",
            Self::PartiallyRefunded => "Partly refunded",
            Self::Refunded => "Refunded",
            Self::Expired => "Expired",
            Self::Failed => "Payment failed",
        }
    }

    /// Whether the buyer paid (and the goods were sold), refunds included.
    pub fn was_paid(self) -> bool {
        matches!(self, Self::Paid | Self::PartiallyRefunded | Self::Refunded)
    }

    /// The steps from `self` to `target`, each one a legal move, in order; empty when `target` is
    /// not ahead of `self` (it is `self`, behind it, or on the other path). The one statement of
    /// which status may follow which: a refund follows the payment, and the ends are final.
    pub fn path_to(self, target: OrderStatus) -> Vec<(OrderStatus, OrderStatus)> {
        use OrderStatus::*;
        let path: &[OrderStatus] = match target {
            Pending => &[Pending],
            Paid => &[Pending, Paid],
            PartiallyRefunded => &[Pending, Paid, PartiallyRefunded],
            Refunded => &[Pending, Paid, PartiallyRefunded, Refunded],
            Expired => &[Pending, Expired],
            Failed => &[Pending, Failed],
        };
        let Some(start) = path.iter().position(|s| *s == self) else {
            return Vec::new();
        };
        path[start..].windows(2).map(|w| (w[0], w[1])).collect()
    }

    /// The status of a paid order, from what Stripe charged and what it refunded of that (minor
    /// units): never from our catalog's total, which a discount, shipping or tax makes differ.
    pub fn of_paid(charged: i64, refunded: i64) -> OrderStatus {
        if refunded > 0 && refunded >= charged {
            OrderStatus::Refunded
        } else if refunded > 0 {
            OrderStatus::PartiallyRefunded
        } else {
            OrderStatus::Paid
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = UnknownName;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(match value {
            "pending" => Self::Pending,
            "paid" => Self::Paid,
            "partially_refunded" => Self::PartiallyRefunded,
            "refunded" => Self::Refunded,
            "expired" => Self::Expired,
            "failed" => Self::Failed,
            other => return Err(UnknownName::new("order status", other)),
        })
    }
}

impl TryFrom<String> for OrderStatus {
    type Error = UnknownName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

/// How many of one item a cart line may hold.
pub const MAX_LINE_QUANTITY: u32 = 10;
/// How many different items a cart may hold.
pub const MAX_CART_LINES: usize = 20;

/// A cart line's quantity: 1 to `MAX_LINE_QUANTITY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(u32);

impl Quantity {
    /// A quantity from a form: a whole number from 1 to the maximum, else `None`.
    pub fn parse(raw: &str) -> Option<Self> {
        raw.trim().parse::<u32>().ok().and_then(Self::new)
    }

    pub fn new(n: u32) -> Option<Self> {
        (1..=MAX_LINE_QUANTITY).contains(&n).then_some(Self(n))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_only_move_forward_one_legal_step_at_a_time() {
        use OrderStatus::*;
        assert_eq!(
            Pending.path_to(Refunded),
            vec![
                (Pending, Paid),
                (Paid, PartiallyRefunded),
                (PartiallyRefunded, Refunded)
            ],
            "a refund follows the payment"
        );
        assert_eq!(Paid.path_to(Refunded).len(), 2);
        assert_eq!(Pending.path_to(Expired), vec![(Pending, Expired)]);
        assert_eq!(Paid.path_to(Pending), vec![]);
        assert_eq!(Refunded.path_to(PartiallyRefunded), vec![]);
        assert_eq!(Expired.path_to(Paid), vec![], "an end is final");
        assert_eq!(Failed.path_to(Refunded), vec![]);
        assert_eq!(Paid.path_to(Paid), vec![]);
        for status in [Pending, Paid, PartiallyRefunded, Refunded, Expired, Failed] {
            assert_eq!(status.as_str().parse::<OrderStatus>(), Ok(status));
        }
    }

    #[test]
    fn refunds_are_measured_against_what_stripe_charged() {
        use OrderStatus::*;
        // A $49 order bought for $39 with a discount: a $39 refund is the whole payment.
        assert_eq!(OrderStatus::of_paid(3900, 3900), Refunded);
        assert_eq!(OrderStatus::of_paid(3900, 900), PartiallyRefunded);
        assert_eq!(OrderStatus::of_paid(3900, 0), Paid);
        // Nothing charged (a 100% discount) and nothing refunded: paid, not refunded.
        assert_eq!(OrderStatus::of_paid(0, 0), Paid);
    }

    #[test]
    fn quantities_are_bounded() {
        assert_eq!(Quantity::parse("3").map(Quantity::get), Some(3));
        for bad in ["0", "11", "-1", "2.5", "", "many"] {
            assert!(Quantity::parse(bad).is_none(), "{bad:?}");
        }
        assert!(OrderId::parse("0").is_none());
        assert!(OrderId::parse("12a").is_none());
        assert_eq!(OrderId::parse("12").map(OrderId::get), Some(12));
    }
}
