//! Hosted Checkout's shipping step (`shipping_address_collection`, `shipping_options`): the
//! address and the rate, asked for before the payment forms; the summary's shipping line after.
//! Also the promotion-code box (`allow_promotion_codes`) and the summary's discount line.

use super::{esc, money};
use crate::model::{CheckoutSession, ShippingRate};
use crate::store::Store;

fn estimate(rate: &ShippingRate) -> String {
    let bound =
        |b: &crate::model::EstimateBound| format!("{} {}", b.value, b.unit.replace('_', " "));
    match (&rate.minimum, &rate.maximum) {
        (Some(min), Some(max)) => format!(" · {} to {}", bound(min), bound(max)),
        (Some(b), None) | (None, Some(b)) => format!(" · {}", bound(b)),
        (None, None) => String::new(),
    }
}

/// The summary's shipping line (and, once entered, where it goes).
pub(super) fn summary_line(store: &Store, s: &CheckoutSession) -> String {
    let Some((rate, amount)) = &s.shipping_rate else {
        return String::new();
    };
    let name = store
        .shipping_rate(rate)
        .map_or("Shipping", |r| r.display_name.as_str());
    let to = s
        .shipping_details
        .as_ref()
        .map(|d| {
            let a = &d.address;
            let parts = [&a.line1, &a.city, &a.postal_code, &a.country];
            let place: Vec<&str> = parts.iter().filter_map(|p| p.as_deref()).collect();
            format!(
                "<p class=\"muted\">Ship to {}, {}</p>",
                esc(&d.name),
                esc(&place.join(", "))
            )
        })
        .unwrap_or_default();
    format!(
        "<div class=\"line\"><span>Shipping · {}</span><span>{}</span></div>{to}",
        esc(name),
        esc(&money(*amount, &s.currency))
    )
}

fn rate_choices(store: &Store, s: &CheckoutSession) -> String {
    let selected = s.shipping_rate.as_ref().map(|(id, _)| id.as_str());
    let options: String = s
        .shipping_options
        .iter()
        .filter_map(|(id, amount)| store.shipping_rate(id).map(|r| (r, amount)))
        .map(|(rate, amount)| {
            let checked = if Some(rate.id.as_str()) == selected { " checked" } else { "" };
            format!(
                "<label class=\"choice\"><input type=\"radio\" name=\"shipping_rate\" value=\"{id}\"{checked}> {name} · {price}{estimate}</label>",
                id = esc(&rate.id),
                name = esc(&rate.display_name),
                price = esc(&money(*amount, &s.currency)),
                estimate = esc(&estimate(rate)),
            )
        })
        .collect();
    if options.is_empty() {
        return String::new();
    }
    format!("<fieldset><legend>Shipping method</legend>{options}</fieldset>")
}

fn address_fields(s: &CheckoutSession) -> String {
    let Some(countries) = &s.shipping_countries else {
        return String::new();
    };
    let options: String = countries
        .iter()
        .map(|c| format!("<option value=\"{0}\">{0}</option>", esc(c)))
        .collect();
    let field = |id: &str, label: &str, autocomplete: &str, required: bool| {
        format!(
            "<label for=\"{id}\">{label}</label><input type=\"text\" id=\"{id}\" name=\"{id}\" autocomplete=\"{autocomplete}\"{}>",
            if required { " required" } else { "" }
        )
    };
    format!(
        "<fieldset><legend>Shipping address</legend>{}{}{}{}{}{}<label for=\"shipping_country\">Country</label><select id=\"shipping_country\" name=\"shipping_country\" autocomplete=\"country\">{options}</select></fieldset>",
        field("shipping_name", "Full name", "shipping name", true),
        field("shipping_line1", "Address", "shipping address-line1", true),
        field(
            "shipping_line2",
            "Apartment, suite (optional)",
            "shipping address-line2",
            false
        ),
        field("shipping_city", "City", "shipping address-level2", true),
        field(
            "shipping_postal_code",
            "Postal code",
            "shipping postal-code",
            true
        ),
        field(
            "shipping_state",
            "State or region (optional)",
            "shipping address-level1",
            false
        ),
    )
}

/// The step's form, shown instead of the payment forms until it is done.
pub(super) fn step(store: &Store, s: &CheckoutSession, error: &str) -> String {
    format!(
        r#"<div class="card"><form method="post" action="/checkout/{id}/shipping">{error}{address}{rates}<button type="submit">Continue to payment</button></form></div>"#,
        id = esc(&s.id),
        address = address_fields(s),
        rates = rate_choices(store, s),
    )
}

/// The summary's discount line, naming the code the buyer typed.
pub(super) fn discount_line(store: &Store, s: &CheckoutSession) -> String {
    let Some(discount) = &s.discount else {
        return String::new();
    };
    let label = discount
        .promotion_code
        .as_deref()
        .and_then(|id| store.promotion_code(id))
        .map_or_else(
            || "Discount".to_owned(),
            |p| format!("Discount ({})", p.code),
        );
    format!(
        "<div class=\"line\"><span>{}</span><span>−{}</span></div>",
        esc(&label),
        esc(&money(s.amount_discount, &s.currency))
    )
}

/// The promotion-code box beside the payment forms, while no discount is applied.
pub(super) fn code_form(s: &CheckoutSession) -> String {
    if s.allow_promotion_codes != Some(true) || s.discount.is_some() {
        return String::new();
    }
    format!(
        r#"<div class="card"><form method="post" action="/checkout/{id}/promotion_code"><label for="promotion_code">Promotion code</label><input type="text" id="promotion_code" name="code" autocomplete="off" required><button type="submit" class="secondary">Apply</button></form></div>"#,
        id = esc(&s.id)
    )
}

/// The summary's tax line, once the tax is known (`automatic_tax`).
pub(super) fn tax_line(s: &CheckoutSession) -> String {
    if !s.automatic_tax {
        return String::new();
    }
    let amount = if s.tax_located {
        money(s.amount_tax, &s.currency)
    } else {
        "Calculated with the address".to_owned()
    };
    format!(
        "<div class=\"line\"><span>Tax</span><span>{}</span></div>",
        esc(&amount)
    )
}
