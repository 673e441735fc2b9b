//! An order's money as charged: one writer for both ways to pay (issue 22).

use crate::domain::OrderId;
use crate::error::AppResult;
use crate::stripe_gateway::{CollectedShipping, SessionTotals};
use sqlx::Any;

/// An order's money and shipping as Stripe states them (a Checkout Session), or as our own page
/// asked the PaymentIntent to charge (a Tax Calculation's total): copied onto the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OrderMoney {
    pub totals: SessionTotals,
    pub shipping: Option<CollectedShipping>,
    pub promotion_code: Option<String>,
    /// What the buyer entered at Checkout; kept for guest orders.
    pub email: Option<String>,
}

/// Copies the amounts, the address, the rate and the code onto the order; a part not given keeps
/// what the order holds.
pub(super) async fn write_money<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    order_id: OrderId,
    checkout: &OrderMoney,
) -> AppResult<()> {
    let t = checkout.totals;
    let shipping = checkout.shipping.as_ref();
    let address = shipping.map(|s| &s.address);
    sqlx::query(
        "UPDATE orders SET amount_subtotal = $2, amount_discount = $3, amount_shipping = $4, \
         amount_tax = $5, amount_total = $6, promotion_code = COALESCE($7, promotion_code), \
         shipping_rate = COALESCE($8, shipping_rate), shipping_delivery = COALESCE($9, shipping_delivery), \
         ship_name = COALESCE($10, ship_name), ship_line1 = COALESCE($11, ship_line1), \
         ship_line2 = COALESCE($12, ship_line2), ship_city = COALESCE($13, ship_city), \
         ship_state = COALESCE($14, ship_state), ship_postal_code = COALESCE($15, ship_postal_code), \
         ship_country = COALESCE($16, ship_country), \
         guest_email = CASE WHEN user_id IS NULL THEN COALESCE($17, guest_email) ELSE guest_email END \
         WHERE id = $1",
    )
    .bind(order_id)
    .bind(t.subtotal)
    .bind(t.discount)
    .bind(t.shipping)
    .bind(t.tax)
    .bind(t.total)
    .bind(&checkout.promotion_code)
    .bind(shipping.and_then(|s| s.rate.clone()))
    .bind(shipping.and_then(|s| s.delivery.clone()))
    .bind(address.map(|a| a.name.clone()))
    .bind(address.map(|a| a.line1.clone()))
    .bind(address.and_then(|a| a.line2.clone()))
    .bind(address.map(|a| a.city.clone()))
    .bind(address.and_then(|a| a.state.clone()))
    .bind(address.map(|a| a.postal_code.clone()))
    .bind(address.map(|a| a.country.clone()))
    .bind(&checkout.email)
    .execute(executor)
    .await?;
    Ok(())
}
