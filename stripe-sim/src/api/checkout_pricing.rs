//! Checkout Session create parameters that change what the buyer pays: shipping (address
//! collection and rates), a discount, and automatic tax.

use crate::error::ApiError;
use crate::form::Params;
use crate::model::AppliedDiscount;
use crate::store::Store;

/// `shipping_address_collection` and `shipping_options`, payment mode only.
#[derive(Default)]
pub(super) struct Shipping {
    pub(super) countries: Option<Vec<String>>,
    /// Rate id and amount, in the order given; the first is selected until the buyer chooses.
    pub(super) options: Vec<(String, i64)>,
}

/// Stripe offers at most this many shipping options on one session.
const MAX_SHIPPING_OPTIONS: usize = 5;

pub(super) fn shipping(
    store: &mut Store,
    params: &Params,
    mode: &str,
    currency: &str,
) -> Result<Shipping, ApiError> {
    let collection = params.child("shipping_address_collection")?;
    let options = params.list("shipping_options")?;
    if mode != "payment" && (collection.is_some() || !options.is_empty()) {
        let param = if collection.is_some() {
            "shipping_address_collection"
        } else {
            "shipping_options"
        };
        return Err(ApiError::invalid(
            param,
            format!("`{param}` can only be used in `payment` mode."),
        ));
    }
    let countries = match collection {
        Some(c) => {
            c.allow(&["allowed_countries"])?;
            let countries = c.strings("allowed_countries")?;
            if countries.is_empty() {
                return Err(ApiError::missing(&c.name("allowed_countries")));
            }
            if let Some(bad) = countries
                .iter()
                .find(|c| c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_uppercase()))
            {
                return Err(ApiError::invalid(
                    &c.name("allowed_countries"),
                    format!("Invalid country: {bad} (use two-letter ISO codes such as US)"),
                ));
            }
            Some(countries)
        }
        None => None,
    };
    if options.len() > MAX_SHIPPING_OPTIONS {
        return Err(ApiError::invalid(
            "shipping_options",
            format!("You may only specify up to {MAX_SHIPPING_OPTIONS} shipping options."),
        ));
    }
    let mut chosen = Vec::new();
    for option in &options {
        option.allow(&["shipping_rate", "shipping_rate_data"])?;
        let id = match (
            option.str("shipping_rate"),
            option.child("shipping_rate_data")?,
        ) {
            (Some(id), None) => id.to_owned(),
            (None, Some(data)) => super::shipping_rates::insert_rate_data(store, &data)?,
            _ => {
                return Err(ApiError::invalid(
                    &option.name("shipping_rate"),
                    "Pass exactly one of shipping_rate or shipping_rate_data.".to_owned(),
                ));
            }
        };
        let rate = store.shipping_rate(&id).ok_or_else(|| {
            ApiError::missing_resource("shipping_rate", &id, &option.name("shipping_rate"))
        })?;
        if !rate.active {
            return Err(ApiError::invalid(
                &option.name("shipping_rate"),
                format!("The shipping rate {id} is not active."),
            ));
        }
        if rate.currency != currency {
            return Err(ApiError::invalid(
                &option.name("shipping_rate"),
                format!(
                    "The shipping rate's currency ({}) must match the currency of the line items ({currency}).",
                    rate.currency
                ),
            ));
        }
        chosen.push((id, rate.amount));
    }
    Ok(Shipping {
        countries,
        options: chosen,
    })
}

/// `discounts[0][coupon | promotion_code]`: one discount, payment mode only, never together with
/// `allow_promotion_codes`; with its amount off `subtotal`.
pub(super) fn discount(
    store: &Store,
    params: &Params,
    mode: &str,
    currency: &str,
    subtotal: i64,
) -> Result<Option<(AppliedDiscount, i64)>, ApiError> {
    let list = params.list("discounts")?;
    let Some(first) = list.first() else {
        return Ok(None);
    };
    if params.bool("allow_promotion_codes")? == Some(true) {
        return Err(ApiError::invalid(
            "discounts",
            "You may only specify one of these parameters: allow_promotion_codes, discounts."
                .to_owned(),
        ));
    }
    if mode != "payment" || list.len() > 1 {
        return Err(ApiError::invalid(
            "discounts",
            "The sim applies one discount, in payment mode.".to_owned(),
        ));
    }
    first.allow(&["coupon", "promotion_code"])?;
    let applied = match (first.str("coupon"), first.str("promotion_code")) {
        (Some(coupon), None) => AppliedDiscount {
            coupon: coupon.to_owned(),
            promotion_code: None,
        },
        (None, Some(promo)) => AppliedDiscount {
            coupon: store
                .promotion_code(promo)
                .map(|p| p.coupon.clone())
                .ok_or_else(|| {
                    ApiError::missing_resource(
                        "promotion_code",
                        promo,
                        &first.name("promotion_code"),
                    )
                })?,
            promotion_code: Some(promo.to_owned()),
        },
        _ => {
            return Err(ApiError::invalid(
                &first.name("coupon"),
                "Pass exactly one of coupon or promotion_code.".to_owned(),
            ));
        }
    };
    let param = first.name(if applied.promotion_code.is_some() {
        "promotion_code"
    } else {
        "coupon"
    });
    let amount = crate::billing::discounts::amount_of(store, &applied, subtotal, currency, &param)?;
    Ok(Some((applied, amount)))
}

/// `automatic_tax[enabled]` (and `liability`, accepted as the account's own).
pub(super) fn automatic_tax(params: &Params) -> Result<bool, ApiError> {
    let Some(tax) = params.child("automatic_tax")? else {
        return Ok(false);
    };
    tax.allow(&["enabled", "liability"])?;
    let enabled = tax.bool("enabled")?.unwrap_or(false);
    // Stripe taxes by the customer's address; a customer passed in (the sim's customers keep no
    // address) must let Checkout save the one it collects.
    if enabled && params.str("customer").is_some() {
        let update = params.child("customer_update")?;
        let auto = |field: &str| {
            update
                .as_ref()
                .and_then(|u| u.str(field))
                .is_some_and(|v| v == "auto")
        };
        if !auto("address") && !auto("shipping") {
            return Err(ApiError::invalid(
                "customer_update",
                "Automatic tax calculation in Checkout requires a valid address on the Customer. \
                 Add a valid address to the Customer or set either `customer_update[address]` or \
                 `customer_update[shipping]` to 'auto' to save the address entered in Checkout to \
                 the Customer."
                    .to_owned(),
            ));
        }
    }
    Ok(enabled)
}
