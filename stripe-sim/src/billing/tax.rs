//! The sim's tax engine: a small, fixed rate table by country (documented in the README), so
//! that tax works offline. Rates are in thousandths of a percent (9.875 % is 9875) and amounts
//! are minor units, rounded half up, so money stays integral.
//!
//! | country | rate | tax type |
//! |---|---|---|
//! | US | 7.25 % | sales_tax |
//! | CA | 5 % | gst |
//! | AU | 10 % | gst |
//! | JP | 10 % | jct |
//! | GB | 20 % | vat |
//! | DE | 19 % | vat |
//! | FR | 20 % | vat |
//! | NL | 21 % | vat |
//! | elsewhere | 0 % (`not_collecting`) | |
//!
//! A customer in the EU (DE, FR, NL) with an `eu_vat` tax id is reverse charged: 0 %, reason
//! `reverse_charge`. Tax code `txcd_00000000` (nontaxable) is 0 %, reason `product_exempt`.

use crate::model::Taxation;

const EU: [&str; 3] = ["DE", "FR", "NL"];

fn table(country: &str) -> Option<(i64, &'static str)> {
    Some(match country {
        "US" => (7_250, "sales_tax"),
        "CA" => (5_000, "gst"),
        "AU" => (10_000, "gst"),
        "JP" => (10_000, "jct"),
        "GB" => (20_000, "vat"),
        "DE" => (19_000, "vat"),
        "FR" => (20_000, "vat"),
        "NL" => (21_000, "vat"),
        _ => return None,
    })
}

/// How a line with `tax_code`, sold to a customer in `country` (`state`), is taxed.
pub(crate) fn taxation(
    country: &str,
    state: Option<&str>,
    tax_code: Option<&str>,
    has_eu_vat_id: bool,
) -> Taxation {
    let (rate_mp, tax_type) = table(country).unwrap_or((0, "sales_tax"));
    let reason = if table(country).is_none() {
        "not_collecting"
    } else if tax_code == Some("txcd_00000000") {
        "product_exempt"
    } else if has_eu_vat_id && EU.contains(&country) {
        "reverse_charge"
    } else {
        "standard_rated"
    };
    let rate_mp = if reason == "standard_rated" {
        rate_mp
    } else {
        0
    };
    Taxation {
        rate_mp,
        tax_type,
        reason,
        country: country.to_owned(),
        state: state.map(str::to_owned),
    }
}

/// The tax in `amount` at `rate_mp`: on top of it (exclusive), or contained in it (inclusive),
/// rounded half up to the minor unit.
pub(crate) fn tax_of(amount: i64, rate_mp: i64, inclusive: bool) -> i64 {
    let (numerator, denominator) = if inclusive {
        (amount * rate_mp, 100_000 + rate_mp)
    } else {
        (amount * rate_mp, 100_000)
    };
    (numerator * 2 + denominator) / (denominator * 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_half_up_on_top_of_or_inside_the_amount() {
        assert_eq!(tax_of(1_000, 7_250, false), 73, "72.5 rounds up");
        assert_eq!(
            tax_of(1_200, 20_000, true),
            200,
            "1200 holds 1000 + 200 VAT"
        );
        assert_eq!(tax_of(1_000, 0, false), 0);
        assert_eq!(
            taxation("US", Some("CA"), None, false).percentage_decimal(),
            "7.25"
        );
        assert_eq!(
            taxation("DE", None, None, false).percentage_decimal(),
            "19.0"
        );
        assert_eq!(taxation("DE", None, None, true).reason, "reverse_charge");
        assert_eq!(taxation("DE", None, None, true).rate_mp, 0);
        assert_eq!(
            taxation("US", None, None, true).reason,
            "standard_rated",
            "not in the EU"
        );
        assert_eq!(taxation("BR", None, None, false).reason, "not_collecting");
        assert_eq!(
            taxation("GB", None, Some("txcd_00000000"), false).rate_mp,
            0
        );
    }
}
