//! Customers as Checkout, the API and the portal create, change and delete them.

use serde_json::Value;

use super::subscriptions::cancel_now;
use crate::error::ApiError;
use crate::model::{Customer, Meta};
use crate::render::{self, diff};
use crate::store::Store;

/// Creates a customer and emits `customer.created`; returns its id.
pub(crate) fn create_customer(
    store: &mut Store,
    email: Option<String>,
    name: Option<String>,
    metadata: Meta,
) -> String {
    let id = store.id("cus");
    let prefix: String = id
        .chars()
        .skip(4)
        .take(7)
        .collect::<String>()
        .to_uppercase();
    store.customers.push(Customer {
        id: id.clone(),
        email,
        name,
        phone: None,
        description: None,
        metadata,
        created: store.now,
        default_payment_method: None,
        invoice_prefix: prefix,
        next_invoice_sequence: 1,
        currency: None,
        delinquent: false,
    });
    if let Some(object) = store.customer(&id).map(render::customer) {
        store.emit("customer.created", object, None);
    }
    id
}

/// Sets the customer's default card (and currency), emitting `customer.updated`. The card
/// also becomes the default of the customer's live subscriptions.
pub(crate) fn set_default_card(
    store: &mut Store,
    customer: &str,
    card: &str,
    currency: Option<&str>,
) {
    let Some(before) = store.customer(customer).map(render::customer) else {
        return;
    };
    if let Some(c) = store.customer_mut(customer) {
        c.default_payment_method = Some(card.to_owned());
        if c.currency.is_none() {
            c.currency = currency.map(str::to_owned);
        }
    }
    if let Some(method) = store.payment_methods.iter_mut().find(|m| m.id == card) {
        method.customer = Some(customer.to_owned());
    }
    for s in store
        .subscriptions
        .iter_mut()
        .filter(|s| s.customer == customer && s.status.is_live())
    {
        s.default_payment_method = Some(card.to_owned());
    }
    if let Some(after) = store.customer(customer).map(render::customer)
        && let Some(previous) = diff(&before, &after)
    {
        store.emit("customer.updated", after, Some(previous));
    }
}

/// Deletes a customer as Stripe does: its live subscriptions end now (each with
/// `customer.subscription.deleted`), its cards are detached, and `customer.deleted` carries the
/// customer as it was. The id then only answers as a deleted stub, which is returned.
pub(crate) fn delete_customer(store: &mut Store, id: &str) -> Result<Value, ApiError> {
    let Some(object) = store.customer(id).map(render::customer) else {
        return Err(ApiError::missing_resource("customer", id, "id"));
    };
    let live: Vec<String> = store
        .subscriptions
        .iter()
        .filter(|s| s.customer == id && s.status.is_live())
        .map(|s| s.id.clone())
        .collect();
    for sub in live {
        cancel_now(store, &sub, Some("cancellation_requested"));
    }
    for method in store
        .payment_methods
        .iter_mut()
        .filter(|m| m.customer.as_deref() == Some(id))
    {
        method.customer = None;
    }
    store.customers.retain(|c| c.id != id);
    store.deleted_customers.push(id.to_owned());
    store.emit("customer.deleted", object, None);
    Ok(render::deleted_customer(id))
}
