//! Subscription lifecycle: creation, cancellation, what happens when a billing period (or
//! trial) ends, and dunning retries. Plan changes are in `plan_change`.

use serde_json::Value;

use super::payments;
use crate::error::ApiError;
use crate::model::{InvoiceLine, Meta, PendingItem, SubItem, SubStatus, Subscription};
use crate::render::billing as render;
use crate::render::diff;
use crate::store::Store;
use crate::time::DAY;

fn snapshot(store: &Store, id: &str) -> Option<Value> {
    store
        .subscription(id)
        .map(|s| render::subscription(store, s))
}

/// Emits `customer.subscription.updated` with `previous_attributes` if anything changed.
pub(crate) fn emit_updated(store: &mut Store, id: &str, before: &Value) {
    if let Some(after) = snapshot(store, id)
        && let Some(prev) = diff(before, &after)
    {
        store.emit("customer.subscription.updated", after, Some(prev));
    }
}

pub(crate) fn set_status(store: &mut Store, id: &str, status: SubStatus) {
    let Some(before) = snapshot(store, id) else {
        return;
    };
    if let Some(s) = store.subscription_mut(id) {
        s.status = status;
    }
    emit_updated(store, id, &before);
}

pub(super) fn price_label(store: &Store, price: &str) -> String {
    let p = store.price(price);
    let name = p
        .and_then(|p| store.product(&p.product))
        .map_or("Plan", |p| p.name.as_str());
    let interval = p
        .and_then(|p| p.recurring.as_ref())
        .map_or("", |r| r.interval.as_str());
    if interval.is_empty() {
        name.to_owned()
    } else {
        format!("{name} (per {interval})")
    }
}

/// Lines billing every item for the period starting `from`.
pub(super) fn period_lines(
    store: &mut Store,
    sub: &Subscription,
    from: i64,
    to: i64,
) -> Vec<InvoiceLine> {
    let mut lines = Vec::new();
    for it in &sub.items {
        let amount = store.price(&it.price).map_or(0, |p| p.unit_amount) * it.quantity;
        let description = format!("{} × {}", it.quantity, price_label(store, &it.price));
        lines.push(InvoiceLine {
            id: store.id("il"),
            amount,
            description,
            price: Some(it.price.clone()),
            quantity: it.quantity,
            period_start: from,
            period_end: to,
            proration: false,
            subscription_item: Some(it.id.clone()),
            invoice_item: None,
        });
    }
    lines
}

/// Pending prorations for `sub`, turned into invoice lines (and removed from the queue).
pub(super) fn take_pending(store: &mut Store, sub: &str) -> Vec<InvoiceLine> {
    let (mine, rest): (Vec<PendingItem>, Vec<PendingItem>) =
        std::mem::take(&mut store.pending_items)
            .into_iter()
            .partition(|p| p.subscription == sub);
    store.pending_items = rest;
    mine.into_iter()
        .map(|p| InvoiceLine {
            id: store.id("il"),
            amount: p.amount,
            description: p.description,
            price: Some(p.price),
            quantity: 1,
            period_start: p.period_start,
            period_end: p.period_end,
            proration: true,
            subscription_item: None,
            invoice_item: Some(p.id),
        })
        .collect()
}

pub(crate) struct NewSubscription<'a> {
    pub(crate) customer: &'a str,
    pub(crate) items: &'a [(String, i64)],
    pub(crate) trial_days: Option<i64>,
    pub(crate) metadata: Meta,
    pub(crate) description: Option<String>,
    pub(crate) payment_method: Option<String>,
}

/// Creates an active (or trialing) subscription and its first invoice, already paid by the
/// checkout charge. Returns (subscription id, invoice id).
pub(crate) fn create(
    store: &mut Store,
    new: NewSubscription<'_>,
) -> Result<(String, String), ApiError> {
    let sub = new_subscription(store, new)?;
    let (id, customer, currency) = (sub.id.clone(), sub.customer.clone(), sub.currency.clone());
    let mut lines = period_lines(
        store,
        &sub,
        sub.current_period_start,
        sub.current_period_end,
    );
    if sub.trial_end.is_some() {
        // A trial starts with a zero-amount invoice, as on Stripe.
        for l in &mut lines {
            l.amount = 0;
            l.description = format!("Trial period for {}", l.description);
        }
    }
    store.subscriptions.push(sub);
    if let Some(object) = snapshot(store, &id) {
        store.emit("customer.subscription.created", object, None);
    }
    // A trial of 3 days or less is about to end as soon as it starts.
    if trial_will_end_at(store, &id).is_some_and(|t| t <= store.now) {
        trial_will_end(store, &id);
    }
    let invoice = payments::create_invoice(
        store,
        &customer,
        Some(&id),
        lines,
        "subscription_create",
        &currency,
    );
    // The hosted page has already checked the card on-session, so this succeeds.
    payments::pay_invoice(store, &invoice, true)?;
    Ok((id, invoice))
}

/// How long before `trial_end` Stripe announces it (`customer.subscription.trial_will_end`).
const TRIAL_WILL_END_NOTICE: i64 = 3 * DAY;

/// When `customer.subscription.trial_will_end` falls due for a trialing subscription that has
/// not had it for its current trial.
pub(crate) fn trial_will_end_at(store: &Store, id: &str) -> Option<i64> {
    let s = store.subscription(id)?;
    let end = s.trial_end.filter(|_| s.status == SubStatus::Trialing)?;
    (s.trial_will_end_sent != Some(end)).then_some(end - TRIAL_WILL_END_NOTICE)
}

/// Sends `customer.subscription.trial_will_end` (once per trial).
pub(crate) fn trial_will_end(store: &mut Store, id: &str) {
    let Some(s) = store.subscription_mut(id) else {
        return;
    };
    s.trial_will_end_sent = s.trial_end;
    if let Some(object) = snapshot(store, id) {
        store.emit("customer.subscription.trial_will_end", object, None);
    }
}

/// Checks the first item's price and builds the subscription (not stored yet).
fn new_subscription(store: &mut Store, new: NewSubscription<'_>) -> Result<Subscription, ApiError> {
    let first = new
        .items
        .first()
        .ok_or_else(|| ApiError::missing("items"))?;
    let price = store
        .price(&first.0)
        .ok_or_else(|| ApiError::missing_resource("price", &first.0, "price"))?;
    let recurring = price.recurring.clone().ok_or_else(|| {
        ApiError::invalid("price", "Subscriptions need a recurring price.".to_owned())
    })?;
    let currency = price.currency.clone();
    let now = store.now;
    let trial_end = new.trial_days.filter(|d| *d > 0).map(|d| now + d * DAY);
    let period_end = trial_end.unwrap_or_else(|| recurring.period_end(now));
    let id = store.id("sub");
    let items = new
        .items
        .iter()
        .map(|(price, quantity)| SubItem {
            id: store.id("si"),
            price: price.clone(),
            quantity: *quantity,
            created: now,
            metadata: Meta::new(),
        })
        .collect();
    Ok(Subscription {
        id,
        customer: new.customer.to_owned(),
        status: if trial_end.is_some() {
            SubStatus::Trialing
        } else {
            SubStatus::Active
        },
        items,
        current_period_start: now,
        current_period_end: period_end,
        cancel_at_period_end: false,
        cancel_at: None,
        canceled_at: None,
        ended_at: None,
        created: now,
        start_date: now,
        billing_cycle_anchor: period_end.min(recurring.period_end(now)),
        trial_start: trial_end.map(|_| now),
        trial_end,
        trial_will_end_sent: None,
        latest_invoice: None,
        default_payment_method: new.payment_method,
        metadata: new.metadata,
        currency,
        description: new.description,
        cancellation_reason: None,
    })
}

pub(crate) fn cancel_now(store: &mut Store, id: &str, reason: Option<&'static str>) {
    let Some(before) = snapshot(store, id) else {
        return;
    };
    let now = store.now;
    let Some(s) = store.subscription_mut(id) else {
        return;
    };
    if s.status == SubStatus::Canceled {
        return;
    }
    s.status = SubStatus::Canceled;
    s.canceled_at = Some(s.canceled_at.unwrap_or(now));
    s.ended_at = Some(now);
    s.cancel_at = s.cancel_at.filter(|t| *t <= now);
    s.cancellation_reason = reason
        .or(s.cancellation_reason)
        .or(Some("cancellation_requested"));
    // Unpaid renewals stop being retried once the subscription is gone.
    for inv in store
        .invoices
        .iter_mut()
        .filter(|i| i.subscription.as_deref() == Some(id))
    {
        inv.next_payment_attempt = None;
    }
    store.pending_items.retain(|p| p.subscription != id);
    if let Some(v) = snapshot(store, id) {
        let prev = diff(&before, &v);
        store.emit("customer.subscription.deleted", v, prev);
    }
}

pub(crate) fn set_cancel_at_period_end(store: &mut Store, id: &str, flag: bool) {
    let Some(before) = snapshot(store, id) else {
        return;
    };
    let now = store.now;
    if let Some(s) = store.subscription_mut(id) {
        s.cancel_at_period_end = flag;
        s.cancel_at = flag.then_some(s.current_period_end);
        s.canceled_at = flag.then_some(now);
        s.cancellation_reason = flag.then_some("cancellation_requested");
    }
    emit_updated(store, id, &before);
}

/// The current period (or trial) of `id` has ended at `store.now`: cancel if requested,
/// otherwise start the next period and bill it.
pub(crate) fn period_ended(store: &mut Store, id: &str) {
    let Some(sub) = store.subscription(id).cloned() else {
        return;
    };
    if sub.cancel_at_period_end || sub.cancel_at.is_some_and(|t| t <= store.now) {
        cancel_now(store, id, Some("cancellation_requested"));
        return;
    }
    let before = render::subscription(store, &sub);
    let Some(rec) = sub
        .items
        .first()
        .and_then(|i| store.price(&i.price))
        .and_then(|p| p.recurring.clone())
    else {
        // Nothing to renew (the price vanished): end it rather than stall the clock.
        cancel_now(store, id, None);
        return;
    };
    let start = sub.current_period_end;
    let end = rec.period_end(start);
    let was_trial = sub.status == SubStatus::Trialing;
    if let Some(s) = store.subscription_mut(id) {
        s.current_period_start = start;
        s.current_period_end = end;
        if was_trial {
            s.status = SubStatus::Active;
            s.billing_cycle_anchor = start;
        }
    }
    emit_updated(store, id, &before);
    let Some(sub) = store.subscription(id).cloned() else {
        return;
    };
    let mut lines = take_pending(store, id);
    lines.extend(period_lines(store, &sub, start, end));
    let inv = payments::create_invoice(
        store,
        &sub.customer,
        Some(id),
        lines,
        "subscription_cycle",
        &sub.currency,
    );
    if payments::pay_invoice(store, &inv, false).is_err() {
        set_status(store, id, SubStatus::PastDue);
    }
}

/// Runs a due dunning retry: success reactivates the subscription, the last failure cancels it.
pub(crate) fn retry_invoice(store: &mut Store, id: &str) {
    let paid = payments::pay_invoice(store, id, false).is_ok();
    let Some(invoice) = store.invoice(id) else {
        return;
    };
    let (sub, exhausted) = (
        invoice.subscription.clone(),
        invoice.next_payment_attempt.is_none(),
    );
    let Some(sub) = sub else { return };
    if paid {
        set_status(store, &sub, SubStatus::Active);
    } else if exhausted {
        cancel_now(store, &sub, Some("payment_failed"));
    }
}
