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
    /// Hosted Checkout: the goods' subtotal Stripe priced (before discount, shipping and tax).
    pub subtotal: Option<i64>,
    /// Hosted Checkout: the total Stripe asked for (after discount, shipping and tax).
    pub asked: Option<i64>,
}

/// What our database expects of an order's payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Expected {
    /// The goods at our catalog's prices (`orders.total`).
    pub subtotal: i64,
    /// What the order is to be charged, when we set it (our own page: goods, shipping, tax and
    /// discount as we asked Stripe); hosted Checkout's comes from Stripe (`Charged::asked`).
    pub due: Option<i64>,
    pub currency: String,
}

/// Why Stripe's view cannot simply be followed from `current`, if it cannot: a payment of another
/// amount or currency than the order's, goods Stripe priced otherwise than our catalog, or a state
/// no path leads to (paid after we ended the order, a counted refund that failed). Discounts,
/// shipping and tax are Stripe's to compute: only the goods' subtotal is ours to compare.
pub(super) fn needs_operator(
    current: OrderStatus,
    order: &Expected,
    view: &Charged,
) -> Option<String> {
    let currency = order.currency.as_str();
    if current == OrderStatus::Pending && view.target.was_paid() {
        let expected = view.asked.or(order.due).unwrap_or(order.subtotal);
        let charged = view.amount_charged.unwrap_or(expected);
        let charged_currency = view.currency.as_deref().unwrap_or(currency);
        if charged != expected || !charged_currency.eq_ignore_ascii_case(currency) {
            return Some(format!(
                "Stripe charged {charged} {charged_currency} for an order of {expected} {currency}"
            ));
        }
        if let Some(subtotal) = view.subtotal.filter(|s| *s != order.subtotal) {
            return Some(format!(
                "Stripe priced the goods at {subtotal} {currency}, our catalog at {} {currency}",
                order.subtotal
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
            subtotal: None,
            asked: None,
        }
    }

    fn order(total: i64) -> Expected {
        Expected {
            subtotal: total,
            due: None,
            currency: "usd".into(),
        }
    }

    /// Issue 22: on hosted Checkout a promotion code, shipping and tax change what is charged; the
    /// charge must be Stripe's own total, and the goods' subtotal ours.
    #[test]
    fn a_hosted_total_with_discount_shipping_and_tax_is_stripes_to_set() {
        use OrderStatus::*;
        let mut hosted = view(Paid, 4400, "usd");
        hosted.subtotal = Some(4900);
        hosted.asked = Some(4400);
        assert_eq!(needs_operator(Pending, &order(4900), &hosted), None);
        hosted.subtotal = Some(100);
        let repriced = needs_operator(Pending, &order(4900), &hosted);
        assert!(repriced.is_some_and(|r| r.contains("goods at 100 usd")));
        hosted.subtotal = Some(4900);
        hosted.amount_charged = Some(4000);
        let short = needs_operator(Pending, &order(4900), &hosted);
        assert!(short.is_some_and(|r| r.contains("charged 4000 usd for an order of 4400")));
        // Our own page: what we asked the intent for (goods, shipping, tax, discount) is due.
        let mut due = order(4900);
        due.due = Some(5840);
        assert_eq!(
            needs_operator(Pending, &due, &view(Paid, 5840, "usd")),
            None
        );
        assert!(needs_operator(Pending, &due, &view(Paid, 4900, "usd")).is_some());
    }

    /// Security review 2, L2: the amount and currency Stripe charged decide "paid"; a state no step
    /// leads to is not forced, and says why.
    #[test]
    fn l2_paid_needs_the_orders_amount_and_currency_and_a_path() {
        use OrderStatus::*;
        assert_eq!(
            needs_operator(Pending, &order(4900), &view(Paid, 4900, "usd")),
            None
        );
        assert_eq!(
            needs_operator(Pending, &order(4900), &view(Paid, 4900, "USD")),
            None
        );
        let lowered = needs_operator(Pending, &order(4900), &view(Paid, 100, "usd"));
        assert!(lowered.is_some_and(|r| r.contains("charged 100 usd")));
        let other_currency = needs_operator(Pending, &order(4900), &view(Paid, 4900, "eur"));
        assert!(other_currency.is_some_and(|r| r.contains("4900 eur")));
        let late = needs_operator(Expired, &order(4900), &view(Paid, 4900, "usd"));
        assert!(late.is_some_and(|r| r.contains("after the order ended")));
        let failed_refund = needs_operator(Refunded, &order(4900), &view(Paid, 4900, "usd"));
        assert!(failed_refund.is_some_and(|r| r.contains("refund failed")));
        assert_eq!(
            needs_operator(Paid, &order(4900), &view(Refunded, 4900, "usd")),
            None
        );
        assert_eq!(
            needs_operator(Expired, &order(4900), &view(Expired, 0, "usd")),
            None
        );
    }
}
