//! Conversions from async-stripe's objects to the plain types.

use super::types::{CheckoutSessionRecord, EventSubject, PriceRecord, ProductRecord};
use stripe_shared::{Price, Product};
use stripe_webhook::EventObject;

pub(super) fn event_subject(object: &EventObject) -> EventSubject {
    use EventObject as E;
    let customer = |id: &str| EventSubject::Customer(id.to_owned());
    match object {
        E::CheckoutSessionCompleted(s)
        | E::CheckoutSessionAsyncPaymentSucceeded(s)
        | E::CheckoutSessionExpired(s) => s
            .customer
            .as_ref()
            .map(|c| customer(c.id().as_str()))
            .unwrap_or(EventSubject::Other),
        E::CustomerCreated(c) | E::CustomerUpdated(c) | E::CustomerDeleted(c) => {
            customer(c.id.as_str())
        }
        E::CustomerSubscriptionCreated(s)
        | E::CustomerSubscriptionUpdated(s)
        | E::CustomerSubscriptionDeleted(s)
        | E::CustomerSubscriptionPaused(s)
        | E::CustomerSubscriptionResumed(s)
        | E::CustomerSubscriptionTrialWillEnd(s)
        | E::CustomerSubscriptionPendingUpdateApplied(s)
        | E::CustomerSubscriptionPendingUpdateExpired(s) => customer(s.customer.id().as_str()),
        E::InvoiceCreated(i)
        | E::InvoiceFinalized(i)
        | E::InvoicePaid(i)
        | E::InvoicePaymentFailed(i)
        | E::InvoicePaymentSucceeded(i)
        | E::InvoiceUpdated(i)
        | E::InvoiceVoided(i)
        | E::InvoiceMarkedUncollectible(i)
        | E::InvoicePaymentActionRequired(i) => i
            .customer
            .as_ref()
            .map(|c| customer(c.id().as_str()))
            .unwrap_or(EventSubject::Other),
        E::ProductCreated(p) | E::ProductUpdated(p) | E::ProductDeleted(p) => {
            EventSubject::Product(p.id.to_string())
        }
        E::PriceCreated(p) | E::PriceUpdated(p) | E::PriceDeleted(p) => {
            EventSubject::Price(p.id.to_string())
        }
        _ => EventSubject::Other,
    }
}

pub(super) fn product_record(product: &Product) -> ProductRecord {
    ProductRecord {
        id: product.id.to_string(),
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
    }
}

pub(super) fn price_record(price: &Price) -> PriceRecord {
    PriceRecord {
        id: price.id.to_string(),
        product_id: price.product.id().to_string(),
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
    }
}

pub(super) fn checkout_record(session: &stripe_shared::CheckoutSession) -> CheckoutSessionRecord {
    CheckoutSessionRecord {
        id: session.id.to_string(),
        url: session.url.clone(),
        customer_id: session.customer.as_ref().map(|c| c.id().to_string()),
        client_reference_id: session.client_reference_id.clone(),
        status: session
            .status
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_else(|| "open".into()),
    }
}
