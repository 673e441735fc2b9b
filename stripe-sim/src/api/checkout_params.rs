//! Checkout Session create parameters, validated the way Stripe does.

use crate::error::ApiError;
use crate::form::{Obj, Params};
use crate::model::{Meta, Price};
use crate::store::Store;
use crate::time::DAY;

/// The priced line items of a new session, all in one currency.
pub(super) struct Lines {
    pub(super) items: Vec<(String, i64)>,
    pub(super) currency: Option<String>,
    pub(super) total: i64,
}

/// `subscription_data[…]`, for subscription mode only.
#[derive(Default)]
pub(super) struct SubscriptionData {
    pub(super) trial_period_days: Option<i64>,
    pub(super) metadata: Meta,
    pub(super) description: Option<String>,
}

/// `mode` (subscription or payment) and `ui_mode` (hosted only).
pub(super) fn mode(params: &Params) -> Result<&str, ApiError> {
    let mode = params.req_str("mode")?;
    if !matches!(mode, "subscription" | "payment") {
        return Err(ApiError::invalid(
            "mode",
            format!("Invalid mode: {mode} (the sim supports subscription and payment)"),
        ));
    }
    if let Some(ui) = params
        .str("ui_mode")
        .filter(|u| !matches!(*u, "hosted" | "hosted_page"))
    {
        return Err(ApiError::invalid(
            "ui_mode",
            format!("ui_mode {ui} is not supported by the sim"),
        ));
    }
    Ok(mode)
}

/// `customer` or `customer_email` (not both); the customer must exist.
pub(super) fn check_customer(store: &Store, params: &Params) -> Result<(), ApiError> {
    if params.str("customer").is_some() && params.str("customer_email").is_some() {
        return Err(ApiError::invalid(
            "customer_email",
            "You may only specify one of these parameters: customer, customer_email.".to_owned(),
        ));
    }
    if let Some(c) = params.str("customer")
        && store.customer(c).is_none()
    {
        return Err(ApiError::missing_resource("customer", c, "customer"));
    }
    Ok(())
}

/// One `line_items[N]` price: it must exist, be active and fit the mode.
pub(super) fn line_price<'a>(
    store: &'a Store,
    item: &Obj<'_>,
    mode: &str,
) -> Result<&'a Price, ApiError> {
    let price_id = item.req_str("price")?;
    let price = store
        .price(price_id)
        .ok_or_else(|| ApiError::missing_resource("price", price_id, &item.name("price")))?;
    if !price.active {
        return Err(ApiError::invalid(
            &item.name("price"),
            format!("The price specified ({price_id}) is inactive."),
        ));
    }
    let message = match (mode, price.recurring.is_some()) {
        ("payment", true) => {
            "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices."
        }
        ("subscription", false) => {
            "You must provide at least one recurring price in `subscription` mode when using prices."
        }
        _ => return Ok(price),
    };
    Err(ApiError::invalid(&item.name("price"), message.to_owned()))
}

/// `line_items[N][price|quantity]`: at least one, priced, in one currency.
pub(super) fn line_items(store: &Store, params: &Params, mode: &str) -> Result<Lines, ApiError> {
    let items = params.list("line_items")?;
    if items.is_empty() {
        return Err(ApiError::missing("line_items"));
    }
    let mut lines = Lines {
        items: Vec::new(),
        currency: None,
        total: 0,
    };
    for item in &items {
        item.allow(&["price", "quantity", "adjustable_quantity", "metadata"])?;
        let price = line_price(store, item, mode)?;
        if lines
            .currency
            .as_ref()
            .is_some_and(|c| *c != price.currency)
        {
            return Err(ApiError::invalid(
                &item.name("price"),
                "All prices must use the same currency.".to_owned(),
            ));
        }
        lines.currency = Some(price.currency.clone());
        let quantity = item.i64("quantity")?.unwrap_or(1);
        if quantity < 1 {
            return Err(ApiError::invalid(
                &item.name("quantity"),
                "Quantity must be at least 1.".to_owned(),
            ));
        }
        lines.total += price.unit_amount * quantity;
        lines.items.push((price.id.clone(), quantity));
    }
    Ok(lines)
}

/// `subscription_data`: a trial (`trial_period_days`, or `trial_end` rounded down to whole
/// days), metadata and description for the subscription Checkout creates.
pub(super) fn subscription_data(
    now: i64,
    params: &Params,
    mode: &str,
) -> Result<SubscriptionData, ApiError> {
    let Some(data) = params.child("subscription_data")? else {
        return Ok(SubscriptionData::default());
    };
    if mode != "subscription" {
        return Err(ApiError::invalid(
            "subscription_data",
            "subscription_data is only allowed in subscription mode.".to_owned(),
        ));
    }
    data.allow(&[
        "trial_period_days",
        "trial_end",
        "metadata",
        "description",
        "trial_settings",
    ])?;
    let days = data.i64("trial_period_days")?;
    if days.is_some_and(|d| !(1..=730).contains(&d)) {
        return Err(ApiError::invalid(
            "subscription_data[trial_period_days]",
            "trial_period_days must be between 1 and 730.".to_owned(),
        ));
    }
    let end_days = match data.i64("trial_end")? {
        Some(end) if end <= now + 2 * DAY => {
            return Err(ApiError::invalid(
                "subscription_data[trial_end]",
                "trial_end must be at least 48 hours in the future.".to_owned(),
            ));
        }
        Some(end) => Some((end - now).div_euclid(DAY)),
        None => None,
    };
    Ok(SubscriptionData {
        trial_period_days: days.or(end_days),
        metadata: data.metadata("metadata")?.unwrap_or_default(),
        description: data.str("description").map(str::to_owned),
    })
}

/// `payment_intent_data[metadata]` (payment mode only), copied to the PaymentIntent and its
/// Charge; the other `payment_intent_data` keys are accepted and ignored.
pub(super) fn payment_intent_metadata(params: &Params, mode: &str) -> Result<Meta, ApiError> {
    let Some(data) = params.child("payment_intent_data")? else {
        return Ok(Meta::new());
    };
    if mode != "payment" {
        return Err(ApiError::invalid(
            "payment_intent_data",
            "You can only specify `payment_intent_data` in `payment` mode.".to_owned(),
        ));
    }
    Ok(data.metadata("metadata")?.unwrap_or_default())
}

pub(super) fn check_payment_method_types(params: &Params) -> Result<(), ApiError> {
    for kind in params.strings("payment_method_types")? {
        if kind != "card" {
            return Err(ApiError::invalid(
                "payment_method_types",
                format!("The sim only supports card, not {kind}."),
            ));
        }
    }
    Ok(())
}

/// The session's methods: `allowed_payment_method_types` (names like `card`, `us_bank_account`), or
/// else the older `payment_method_types` (checked above); not both, as Stripe answers.
pub(super) fn payment_methods(params: &Params) -> Result<Vec<String>, ApiError> {
    let listed = params.strings("payment_method_types")?;
    let allowed = params.strings("allowed_payment_method_types")?;
    if !listed.is_empty() && !allowed.is_empty() {
        return Err(ApiError::invalid(
            "allowed_payment_method_types",
            "You may only specify one of these parameters: allowed_payment_method_types, \
             payment_method_types."
                .to_owned(),
        ));
    }
    if let Some(bad) = allowed
        .iter()
        .find(|t| t.is_empty() || !t.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
    {
        return Err(ApiError::invalid(
            "allowed_payment_method_types",
            format!("Invalid payment method type: {bad:?}."),
        ));
    }
    Ok(if allowed.is_empty() { listed } else { allowed })
}

/// `expires_at`: 30 minutes to 24 hours after `now` (the session's `created`; the default is
/// 24 hours).
pub(super) fn expires_at(now: i64, params: &Params) -> Result<i64, ApiError> {
    let expires_at = params.i64("expires_at")?.unwrap_or(now + DAY);
    if expires_at <= now + 1_800 || expires_at > now + DAY {
        return Err(ApiError::invalid(
            "expires_at",
            "expires_at must be between 30 minutes and 24 hours from now.".to_owned(),
        ));
    }
    Ok(expires_at)
}
