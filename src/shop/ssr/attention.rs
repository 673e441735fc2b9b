//! Orders that need the operator (security review 2, L2): Stripe's state is not followed blindly.
//! A payment of another amount or currency than the order's, or a state no step leads to (paid after
//! we ended the order, a refund that failed after we counted it), is written to `orders.attention`
//! and logged instead.

use crate::domain::OrderStatus;

/// What Stripe's objects say of an order: where they put it, and what was charged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Charged {
    pub target: OrderStatus,
    /// What Stripe charged, once the payment succeeded.
    pub amount_charged: Option<i64>,
    /// The payment's currency, when there is a payment.
    pub currency: Option<String>,
}

/// Why Stripe's view cannot simply be followed from `current`, if it cannot: a payment of another
/// amount or currency than the order's, or a state no path leads to (paid after we ended the
/// order, a counted refund that failed).
pub(super) fn needs_operator(
    current: OrderStatus,
    total: i64,
    currency: &str,
    view: &Charged,
) -> Option<String> {
    if current == OrderStatus::Pending && view.target.was_paid() {
        let charged = view.amount_charged.unwrap_or(total);
        let charged_currency = view.currency.as_deref().unwrap_or(currency);
        if charged != total || !charged_currency.eq_ignore_ascii_case(currency) {
            return Some(format!(
                "Stripe charged {charged} {charged_currency} for an order of {total} {currency}"
            ));
        }
    }
    if current != view.target && current.path_to(view.target).is_empty() {
        return Some(match (current, view.target) {
            (OrderStatus::Expired | OrderStatus::Failed, target) if target.was_paid() => format!(
                "paid at Stripe after the order ended ({current}): refund it or fulfil it by hand"
            ),
            (from, to) if from.was_paid() && to.was_paid() => format!(
                "a refund failed at Stripe: it now reads {to}, the order was {from} (stock was returned)"
            ),
            (from, to) => {
                format!("Stripe reads {to}, the order is {from}, and no step leads there")
            }
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(target: OrderStatus, charged: i64, currency: &str) -> Charged {
        Charged {
            target,
            amount_charged: target.was_paid().then_some(charged),
            currency: Some(currency.into()),
        }
    }

    /// Security review 2, L2: the amount and currency Stripe charged decide "paid"; a state no step
    /// leads to is not forced, and says why.
    #[test]
    fn l2_paid_needs_the_orders_amount_and_currency_and_a_path() {
        use OrderStatus::*;
        assert_eq!(
            needs_operator(Pending, 4900, "usd", &view(Paid, 4900, "usd")),
            None
        );
        assert_eq!(
            needs_operator(Pending, 4900, "usd", &view(Paid, 4900, "USD")),
            None
        );
        let lowered = needs_operator(Pending, 4900, "usd", &view(Paid, 100, "usd"));
        assert!(lowered.is_some_and(|r| r.contains("charged 100 usd")));
        let other_currency = needs_operator(Pending, 4900, "usd", &view(Paid, 4900, "eur"));
        assert!(other_currency.is_some_and(|r| r.contains("4900 eur")));
        let late = needs_operator(Expired, 4900, "usd", &view(Paid, 4900, "usd"));
        assert!(late.is_some_and(|r| r.contains("after the order ended")));
        let failed_refund = needs_operator(Refunded, 4900, "usd", &view(Paid, 4900, "usd"));
        assert!(failed_refund.is_some_and(|r| r.contains("refund failed")));
        assert_eq!(
            needs_operator(Paid, 4900, "usd", &view(Refunded, 4900, "usd")),
            None
        );
        assert_eq!(
            needs_operator(Expired, 4900, "usd", &view(Expired, 0, "usd")),
            None
        );
    }
}
