//! The states Stripe's objects put an order in.
use super::*;

fn intent(state: IntentState, refunded: i64) -> PaymentRecord {
    PaymentRecord {
        id: "pi_1".into(),
        state,
        amount_received: if state == IntentState::Succeeded {
            4900
        } else {
            0
        },
        currency: "usd".into(),
        order_tag: None,
        amount_refunded: refunded,
        receipt_url: None,
    }
}

#[test]
fn an_on_page_order_stays_payable_until_its_intent_succeeds_or_is_canceled() {
    use IntentState::*;
    let cases = [
        (InProgress, 0, OrderStatus::Pending),
        // A decline or failed 3-D Secure: the buyer may try another card.
        (AttemptFailed, 0, OrderStatus::Pending),
        (Canceled, 0, OrderStatus::Expired),
        (Succeeded, 0, OrderStatus::Paid),
        (Succeeded, 900, OrderStatus::PartiallyRefunded),
        (Succeeded, 4900, OrderStatus::Refunded),
    ];
    for (state, refunded, expected) in cases {
        assert_eq!(
            intent_target_status(&intent(state, refunded)),
            expected,
            "{state:?}, {refunded} refunded"
        );
    }
}

#[test]
fn a_hosted_checkout_fails_on_a_failed_attempt_or_a_canceled_intent() {
    for state in [IntentState::AttemptFailed, IntentState::Canceled] {
        let target = target_status(
            CheckoutSessionStatus::Complete,
            PaymentStatus::Unpaid,
            Some(&intent(state, 0)),
        );
        assert_eq!(target, OrderStatus::Failed, "{state:?}");
    }
    let settling = target_status(
        CheckoutSessionStatus::Complete,
        PaymentStatus::Unpaid,
        Some(&intent(IntentState::InProgress, 0)),
    );
    assert_eq!(settling, OrderStatus::Pending);
}

/// A discounted order: Stripe charged $39 for a $49 cart. Refunding the $39 is a full refund,
/// judged by what Stripe charged (the intent's `amount_received`), not our catalog total.
#[test]
fn a_refund_of_everything_charged_is_a_full_refund_whatever_the_catalog_said() {
    let mut paid = intent(IntentState::Succeeded, 3900);
    paid.amount_received = 3900;
    assert_eq!(intent_target_status(&paid), OrderStatus::Refunded);
    let hosted = target_status(
        CheckoutSessionStatus::Complete,
        PaymentStatus::Paid,
        Some(&paid),
    );
    assert_eq!(hosted, OrderStatus::Refunded);
}
