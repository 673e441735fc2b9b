//! Conversions from async-stripe's objects to the plain types.

use super::types::{
    CheckoutSessionRecord, CheckoutSessionStatus, CollectedShipping, GoodsMetadata, IntentState,
    InvoiceRecord, ORDER_METADATA_KEY, OrderIntentRecord, PaymentRecord, PaymentStatus,
    PriceRecord, ProductRecord, SessionTotals, SubscriptionRecord,
};
use crate::domain::{
    CheckoutSessionId, CustomerId, DeliveryEstimate, PriceId, ProductId, ShippingAddress,
    SubscriptionStatus,
};
use stripe_shared::{Invoice, Price, Product, Subscription};

pub(super) fn product_record(product: &Product) -> ProductRecord {
    ProductRecord {
        id: ProductId::from(product.id.as_str()),
        name: product.name.clone(),
        description: product.description.clone(),
        active: product.active,
        role: product.metadata.get("role").cloned(),
        features: product
            .marketing_features
            .iter()
            .filter_map(|f| f.name.clone())
            .collect(),
        sort_order: product
            .metadata
            .get("sort_order")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        livemode: product.livemode,
        goods: goods_metadata(product),
    }
}

fn goods_metadata(product: &Product) -> Option<GoodsMetadata> {
    let meta = &product.metadata;
    (meta.get("kind").map(String::as_str) == Some("goods")).then(|| GoodsMetadata {
        slug: meta.get("slug").cloned(),
        image: meta
            .get("image")
            .cloned()
            .or_else(|| product.images.first().cloned()),
        initial_stock: meta.get("stock").and_then(|s| s.trim().parse().ok()),
        shippable: meta.get("shippable").map(|s| s.trim()) == Some("true"),
        option_name: meta
            .get("option_name")
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty()),
    })
}

pub(super) fn price_record(price: &Price) -> PriceRecord {
    PriceRecord {
        id: PriceId::from(price.id.as_str()),
        product_id: ProductId::from(price.product.id().as_str()),
        active: price.active,
        currency: price.currency.to_string(),
        unit_amount: price.unit_amount,
        interval: price
            .recurring
            .as_ref()
            .map(|r| r.interval.as_str().to_owned()),
        interval_count: price
            .recurring
            .as_ref()
            .map(|r| r.interval_count as i64)
            .unwrap_or(1),
        // Stripe prices carry no trial; the catalog keeps it in price metadata.
        trial_period_days: price
            .metadata
            .get("trial_period_days")
            .and_then(|d| d.parse().ok()),
        lookup_key: price.lookup_key.clone(),
        livemode: price.livemode,
        option: price
            .metadata
            .get("option")
            .map(|o| o.trim().to_owned())
            .filter(|o| !o.is_empty()),
        sort_order: price
            .metadata
            .get("sort_order")
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0),
        initial_stock: price
            .metadata
            .get("stock")
            .and_then(|s| s.trim().parse().ok()),
    }
}

pub(super) fn subscription_record(subscription: &Subscription) -> SubscriptionRecord {
    // The first item gives the quantity and period shown; every item's price counts for the tier.
    let item = subscription.items.data.first();
    SubscriptionRecord {
        id: subscription.id.to_string(),
        customer_id: CustomerId::from(subscription.customer.id().as_str()),
        status: subscription_status(&subscription.status),
        price_ids: subscription
            .items
            .data
            .iter()
            .map(|i| PriceId::from(i.price.id.as_str()))
            .collect(),
        quantity: item.and_then(|i| i.quantity).map(|q| q as i64).unwrap_or(1),
        cancel_at_period_end: subscription.cancel_at_period_end || subscription.cancel_at.is_some(),
        current_period_start: item.map(|i| i.current_period_start),
        current_period_end: item.map(|i| i.current_period_end),
        trial_end: subscription.trial_end,
        canceled_at: subscription.canceled_at,
        ended_at: subscription.ended_at,
        created: subscription.created,
        livemode: subscription.livemode,
        on_test_clock: subscription.test_clock.is_some(),
    }
}

fn subscription_status(status: &stripe_shared::SubscriptionStatus) -> SubscriptionStatus {
    use stripe_shared::SubscriptionStatus as Stripe;
    match status {
        Stripe::Active => SubscriptionStatus::Active,
        Stripe::Trialing => SubscriptionStatus::Trialing,
        Stripe::PastDue => SubscriptionStatus::PastDue,
        Stripe::Unpaid => SubscriptionStatus::Unpaid,
        Stripe::Canceled => SubscriptionStatus::Canceled,
        Stripe::Incomplete => SubscriptionStatus::Incomplete,
        Stripe::IncompleteExpired => SubscriptionStatus::IncompleteExpired,
        Stripe::Paused => SubscriptionStatus::Paused,
        // A status newer than our API version: grant nothing, and do not let the user buy a second
        // subscription until we know what it means (the conservative reading of both).
        other => {
            tracing::warn!(
                status = other.as_str(),
                "unknown subscription status; treated as incomplete"
            );
            SubscriptionStatus::Incomplete
        }
    }
}

/// Draft invoices have no id yet and are skipped.
pub(super) fn invoice_record(invoice: &Invoice) -> Option<InvoiceRecord> {
    Some(InvoiceRecord {
        id: invoice.id.as_ref()?.to_string(),
        subscription_id: invoice.subscription.as_ref().map(|s| s.id().to_string()),
        status: invoice
            .status
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_else(|| "draft".into()),
        currency: invoice.currency.to_string(),
        amount_due: invoice.amount_due,
        amount_paid: invoice.amount_paid,
        hosted_invoice_url: invoice.hosted_invoice_url.clone(),
        created: invoice.created,
        attempt_count: i64::try_from(invoice.attempt_count).unwrap_or(i64::MAX),
    })
}

pub(super) fn checkout_record(session: &stripe_shared::CheckoutSession) -> CheckoutSessionRecord {
    use stripe_shared::CheckoutSessionStatus as Stripe;
    CheckoutSessionRecord {
        id: CheckoutSessionId::from(session.id.as_str()),
        url: session.url.clone(),
        customer_id: session
            .customer
            .as_ref()
            .map(|c| CustomerId::from(c.id().as_str())),
        client_reference_id: session.client_reference_id.clone(),
        status: match session.status {
            Some(Stripe::Complete) => CheckoutSessionStatus::Complete,
            Some(Stripe::Expired) => CheckoutSessionStatus::Expired,
            _ => CheckoutSessionStatus::Open,
        },
        payment_status: {
            use stripe_shared::CheckoutSessionPaymentStatus as Paid;
            match session.payment_status {
                Paid::Paid => PaymentStatus::Paid,
                Paid::NoPaymentRequired => PaymentStatus::NoPaymentRequired,
                _ => PaymentStatus::Unpaid,
            }
        },
        payment_intent_id: session.payment_intent.as_ref().map(|p| p.id().to_string()),
        expires_at: session.expires_at,
        order_tag: session
            .metadata
            .as_ref()
            .and_then(|m| m.get(ORDER_METADATA_KEY).cloned()),
        customer_email: session
            .customer_details
            .as_ref()
            .and_then(|d| d.email.clone()),
        totals: session_totals(session),
        shipping: collected_shipping(session),
        // Read when the session was retrieved with `discounts.promotion_code` expanded.
        promotion_code: session
            .discounts
            .iter()
            .flatten()
            .filter_map(|d| d.promotion_code.as_ref()?.as_object())
            .map(|p| p.code.clone())
            .next(),
    }
}

fn session_totals(session: &stripe_shared::CheckoutSession) -> Option<SessionTotals> {
    let details = session.total_details.as_ref();
    Some(SessionTotals {
        subtotal: session.amount_subtotal?,
        discount: details.map_or(0, |d| d.amount_discount),
        shipping: details.and_then(|d| d.amount_shipping).unwrap_or(0),
        tax: details.map_or(0, |d| d.amount_tax),
        total: session.amount_total?,
    })
}

fn collected_shipping(session: &stripe_shared::CheckoutSession) -> Option<CollectedShipping> {
    let details = session
        .collected_information
        .as_ref()?
        .shipping_details
        .as_ref()?;
    let a = &details.address;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    // Read when the session was retrieved with `shipping_cost.shipping_rate` expanded.
    let rate = session
        .shipping_cost
        .as_ref()
        .and_then(|c| c.shipping_rate.as_ref()?.as_object());
    Some(CollectedShipping {
        address: ShippingAddress {
            name: details.name.clone(),
            line1: text(&a.line1),
            line2: a.line2.clone(),
            city: text(&a.city),
            state: a.state.clone(),
            postal_code: text(&a.postal_code),
            country: text(&a.country),
        },
        rate: rate.and_then(|r| r.display_name.clone()),
        delivery: rate
            .and_then(|r| r.delivery_estimate.as_ref())
            .and_then(delivery_text),
    })
}

/// "3-5 business days" for Stripe's `delivery_estimate` in business days; other units as Stripe
/// names them.
fn delivery_text(estimate: &stripe_shared::ShippingRateDeliveryEstimate) -> Option<String> {
    use stripe_shared::ShippingRateDeliveryEstimateBoundUnit as Unit;
    let (min, max) = (estimate.minimum.as_ref()?, estimate.maximum.as_ref()?);
    if matches!(min.unit, Unit::BusinessDay) && matches!(max.unit, Unit::BusinessDay) {
        let days = |v: i64| u32::try_from(v).ok();
        return Some(
            DeliveryEstimate {
                min_days: days(min.value)?,
                max_days: days(max.value)?,
            }
            .to_string(),
        );
    }
    Some(format!(
        "{} {} to {} {}",
        min.value,
        min.unit.as_str().replace('_', " "),
        max.value,
        max.unit.as_str().replace('_', " ")
    ))
}

/// Where an intent is, in the shop's terms.
fn intent_state(intent: &stripe_shared::PaymentIntent) -> IntentState {
    use stripe_shared::PaymentIntentStatus as Stripe;
    match intent.status {
        Stripe::Succeeded => IntentState::Succeeded,
        Stripe::Canceled => IntentState::Canceled,
        // A failed attempt leaves the intent waiting for another method.
        Stripe::RequiresPaymentMethod if intent.last_payment_error.is_some() => {
            IntentState::AttemptFailed
        }
        _ => IntentState::InProgress,
    }
}

pub(super) fn payment_record(intent: &stripe_shared::PaymentIntent) -> PaymentRecord {
    let charge = intent.latest_charge.as_ref().and_then(|c| c.as_object());
    PaymentRecord {
        id: intent.id.to_string(),
        state: intent_state(intent),
        amount_received: intent.amount_received,
        currency: intent.currency.to_string(),
        order_tag: intent.metadata.get(ORDER_METADATA_KEY).cloned(),
        amount_refunded: charge.map_or(0, |c| c.amount_refunded),
        receipt_url: charge.and_then(|c| c.receipt_url.clone()),
    }
}

/// An intent for the browser to confirm; `None` without a client secret (Stripe always sends one
/// to the secret key).
pub(super) fn order_intent_record(
    intent: &stripe_shared::PaymentIntent,
) -> Option<OrderIntentRecord> {
    Some(OrderIntentRecord {
        id: intent.id.to_string(),
        client_secret: intent.client_secret.clone()?,
        state: intent_state(intent),
        amount: intent.amount,
        currency: intent.currency.to_string(),
    })
}
