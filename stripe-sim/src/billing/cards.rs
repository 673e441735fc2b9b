//! Stripe's test card numbers and what paying with each does: the one decline table that
//! hosted Checkout, PaymentIntent confirms, the portal and renewals all read. Also the card
//! checks (Luhn, expiry) and storing a card as a PaymentMethod.

use crate::error::ApiError;
use crate::model::{CardBehavior, PaymentError, PaymentMethod};
use crate::store::Store;

/// Stripe's generic decline (`4000000000000002`, and off-session `4000000000000341`).
pub(crate) const GENERIC_DECLINE: PaymentError = PaymentError {
    kind: "card_error",
    code: "card_declined",
    decline_code: Some("generic_decline"),
    message: "Your card was declined.",
};

/// `4000000000009995`.
pub(crate) const INSUFFICIENT_FUNDS: PaymentError = PaymentError {
    kind: "card_error",
    code: "card_declined",
    decline_code: Some("insufficient_funds"),
    message: "Your card has insufficient funds.",
};

/// An invoice charged to a customer who has no card to charge.
pub(crate) const NO_PAYMENT_METHOD: PaymentError = PaymentError {
    kind: "card_error",
    code: "card_declined",
    decline_code: Some("generic_decline"),
    message: "The customer has no attached payment source or default payment method.",
};

/// The test card numbers that do something other than succeed; every other number that
/// passes the Luhn check succeeds.
pub(crate) const TEST_CARDS: [(&str, CardBehavior); 5] = [
    ("4000000000000002", CardBehavior::Decline(&GENERIC_DECLINE)),
    (
        "4000000000009995",
        CardBehavior::Decline(&INSUFFICIENT_FUNDS),
    ),
    ("4000000000003220", CardBehavior::Authenticate),
    ("4000002500003155", CardBehavior::Authenticate),
    (
        "4000000000000341",
        CardBehavior::DeclineOffSession(&GENERIC_DECLINE),
    ),
];

fn luhn_ok(digits: &str) -> bool {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Maps a card number to its test behaviour through [`TEST_CARDS`].
fn card_behavior(number: &str) -> Result<CardBehavior, ApiError> {
    let digits: String = number
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.len() < 12
        || digits.len() > 19
        || !digits.chars().all(|c| c.is_ascii_digit())
        || !luhn_ok(&digits)
    {
        return Err(
            ApiError::card("incorrect_number", None, "Your card number is incorrect.")
                .with_param("card[number]"),
        );
    }
    let listed = TEST_CARDS.iter().find(|(n, _)| *n == digits);
    Ok(listed.map_or(CardBehavior::Succeed, |(_, behavior)| *behavior))
}

fn brand(number: &str) -> &'static str {
    match number.chars().next() {
        Some('4') => "visa",
        Some('5') | Some('2') => "mastercard",
        Some('3') => "amex",
        _ => "unknown",
    }
}

/// Stores a card as a payment method (attached to `customer`, if given); returns its id.
/// Hosted pages do not keep the expiry they check, so the card shows 12/2034.
pub(crate) fn add_card(
    store: &mut Store,
    number: &str,
    customer: Option<&str>,
) -> Result<String, ApiError> {
    store_card(store, number, customer, (12, 2034))
}

/// The card error for an expiry (`(month, year)`, four-digit year) that is not valid now.
fn expiry_error(store: &Store, (month, year): (i64, i64)) -> Option<ApiError> {
    if !(1..=12).contains(&month) {
        return Some(
            ApiError::card(
                "invalid_expiry_month",
                None,
                "Your card's expiration month is invalid.",
            )
            .with_param("card[exp_month]"),
        );
    }
    let (now_year, now_month) = crate::time::year_month(store.now);
    if year >= now_year && year <= now_year + 50 && (year != now_year || month >= now_month) {
        return None;
    }
    // Stripe blames the month when only the month is past.
    let (code, message, param) = if year == now_year {
        (
            "invalid_expiry_month",
            "Your card's expiration month is invalid.",
            "card[exp_month]",
        )
    } else {
        (
            "invalid_expiry_year",
            "Your card's expiration year is invalid.",
            "card[exp_year]",
        )
    };
    Some(ApiError::card(code, None, message).with_param(param))
}

/// `POST /v1/payment_methods` with `type=card`: checks number, expiry (`(month, year)`, a
/// two-digit year means 20YY) like Stripe, then stores the card detached. Only the last four
/// digits and the test behaviour are kept.
pub(crate) fn create_card_method(
    store: &mut Store,
    number: &str,
    expiry: (i64, i64),
) -> Result<String, ApiError> {
    let (month, year) = expiry;
    let year = if (0..100).contains(&year) {
        2000 + year
    } else {
        year
    };
    card_behavior(number)?;
    if let Some(error) = expiry_error(store, (month, year)) {
        return Err(error);
    }
    store_card(store, number, None, (month, year))
}

fn store_card(
    store: &mut Store,
    number: &str,
    customer: Option<&str>,
    (exp_month, exp_year): (i64, i64),
) -> Result<String, ApiError> {
    let behavior = card_behavior(number)?;
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let id = store.id("pm");
    store.payment_methods.push(PaymentMethod {
        id: id.clone(),
        customer: customer.map(str::to_owned),
        last4: digits[digits.len().saturating_sub(4)..].to_owned(),
        brand: brand(&digits).to_owned(),
        exp_month,
        exp_year,
        behavior,
        created: store.now,
    });
    Ok(id)
}

/// The card error a charge with a card of this behaviour gets, if any. On-session charges
/// (the hosted pages, saving a card in the portal) go through for cards that only fail
/// off-session.
pub(crate) fn decline(behavior: CardBehavior, on_session: bool) -> Result<(), ApiError> {
    match behavior.decline(on_session) {
        Some(error) => Err(error.card_error()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cards_map_to_behaviours() {
        let behavior = |n: &str| card_behavior(n).ok();
        assert_eq!(behavior("4242 4242 4242 4242"), Some(CardBehavior::Succeed));
        assert_eq!(
            behavior("4000000000000002"),
            Some(CardBehavior::Decline(&GENERIC_DECLINE))
        );
        assert_eq!(
            behavior("4000000000009995"),
            Some(CardBehavior::Decline(&INSUFFICIENT_FUNDS))
        );
        assert_eq!(
            behavior("4000000000003220"),
            Some(CardBehavior::Authenticate)
        );
        assert_eq!(
            behavior("4000002500003155"),
            Some(CardBehavior::Authenticate)
        );
        assert_eq!(
            behavior("4000000000000341"),
            Some(CardBehavior::DeclineOffSession(&GENERIC_DECLINE))
        );
        assert!(card_behavior("4242424242424241").is_err());
        assert!(card_behavior("abc").is_err());
    }

    #[test]
    fn every_listed_test_card_passes_the_luhn_check() {
        for (number, _) in TEST_CARDS {
            assert!(luhn_ok(number), "{number}");
        }
    }

    #[test]
    fn off_session_declines_spare_on_session_charges() {
        let card = CardBehavior::DeclineOffSession(&GENERIC_DECLINE);
        assert_eq!(card.decline(true), None);
        assert_eq!(card.decline(false), Some(&GENERIC_DECLINE));
        let declined = decline(CardBehavior::Decline(&INSUFFICIENT_FUNDS), true);
        let error = declined.expect_err("declined");
        assert_eq!(
            (error.code.as_deref(), error.decline_code),
            (Some("card_declined"), Some("insufficient_funds"))
        );
    }
}
