//! Subscription lifecycle: creation, plan changes with proration, cancellation, and what
//! happens when a billing period (or trial) ends.

use serde_json::Value;

use super::payments::{self, DAY, diff};
use crate::http::ApiError;
use crate::objects::billing as render;
use crate::state::{InvoiceLine, PendingItem, State, SubItem, SubStatus, Subscription};

fn snapshot(st: &State, id: &str) -> Option<Value> {
    st.subscription(id).map(|s| render::subscription(st, s))
}

/// Emits `customer.subscription.updated` with `previous_attributes` if anything changed.
pub fn emit_updated(st: &mut State, id: &str, before: &Value) {
    if let Some(after) = snapshot(st, id)
        && let Some(prev) = diff(before, &after)
    {
        st.emit("customer.subscription.updated", after, Some(prev));
    }
}

pub fn set_status(st: &mut State, id: &str, status: SubStatus) {
    let Some(before) = snapshot(st, id) else {
        return;
    };
    if let Some(s) = st.subscription_mut(id) {
        s.status = status;
    }
    emit_updated(st, id, &before);
}

fn price_label(st: &State, price: &str) -> String {
    let p = st.price(price);
    let name = p
        .and_then(|p| st.product(&p.product))
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
fn period_lines(st: &mut State, sub: &Subscription, from: i64, to: i64) -> Vec<InvoiceLine> {
    let mut lines = Vec::new();
    for it in &sub.items {
        let amount = st.price(&it.price).map_or(0, |p| p.unit_amount) * it.quantity;
        let description = format!("{} × {}", it.quantity, price_label(st, &it.price));
        lines.push(InvoiceLine {
            id: st.id("il"),
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
fn take_pending(st: &mut State, sub: &str) -> Vec<InvoiceLine> {
    let (mine, rest): (Vec<PendingItem>, Vec<PendingItem>) = std::mem::take(&mut st.pending_items)
        .into_iter()
        .partition(|p| p.subscription == sub);
    st.pending_items = rest;
    mine.into_iter()
        .map(|p| InvoiceLine {
            id: st.id("il"),
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

pub struct NewSubscription<'a> {
    pub customer: &'a str,
    pub items: &'a [(String, i64)],
    pub trial_days: Option<i64>,
    pub metadata: crate::state::Meta,
    pub description: Option<String>,
    pub payment_method: Option<String>,
}

/// Creates an active (or trialing) subscription and its first invoice, already paid by the
/// checkout charge. Returns (subscription id, invoice id).
pub fn create(st: &mut State, new: NewSubscription<'_>) -> Result<(String, String), ApiError> {
    let first = new
        .items
        .first()
        .ok_or_else(|| ApiError::missing("items"))?;
    let price = st
        .price(&first.0)
        .ok_or_else(|| ApiError::missing_resource("price", &first.0, "price"))?;
    let recurring = price.recurring.clone().ok_or_else(|| {
        ApiError::invalid("price", "Subscriptions need a recurring price.".to_owned())
    })?;
    let currency = price.currency.clone();
    let now = st.now;
    let trial_end = new.trial_days.filter(|d| *d > 0).map(|d| now + d * DAY);
    let period_end = trial_end.unwrap_or_else(|| recurring.period_end(now));
    let id = st.id("sub");
    let mut items = Vec::new();
    for (price, quantity) in new.items {
        items.push(SubItem {
            id: st.id("si"),
            price: price.clone(),
            quantity: *quantity,
            created: now,
            metadata: Default::default(),
        });
    }
    let sub = Subscription {
        id: id.clone(),
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
        latest_invoice: None,
        default_payment_method: new.payment_method,
        metadata: new.metadata,
        currency: currency.clone(),
        description: new.description,
        cancellation_reason: None,
    };
    let mut lines = period_lines(st, &sub, now, period_end);
    if trial_end.is_some() {
        // A trial starts with a zero-amount invoice, as on Stripe.
        for l in &mut lines {
            l.amount = 0;
            l.description = format!("Trial period for {}", l.description);
        }
    }
    st.subscriptions.push(sub);
    if let Some(v) = snapshot(st, &id) {
        st.emit("customer.subscription.created", v, None);
    }
    let inv = payments::create_invoice(
        st,
        new.customer,
        Some(&id),
        lines,
        "subscription_create",
        &currency,
    );
    // The hosted page has already checked the card on-session, so this succeeds.
    payments::pay_invoice(st, &inv, true)?;
    Ok((id, inv))
}

pub fn cancel_now(st: &mut State, id: &str, reason: Option<&'static str>) {
    let Some(before) = snapshot(st, id) else {
        return;
    };
    let now = st.now;
    let Some(s) = st.subscription_mut(id) else {
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
    for inv in st
        .invoices
        .iter_mut()
        .filter(|i| i.subscription.as_deref() == Some(id))
    {
        inv.next_payment_attempt = None;
    }
    st.pending_items.retain(|p| p.subscription != id);
    if let Some(v) = snapshot(st, id) {
        let prev = diff(&before, &v);
        st.emit("customer.subscription.deleted", v, prev);
    }
}

pub fn set_cancel_at_period_end(st: &mut State, id: &str, flag: bool) {
    let Some(before) = snapshot(st, id) else {
        return;
    };
    let now = st.now;
    if let Some(s) = st.subscription_mut(id) {
        s.cancel_at_period_end = flag;
        s.cancel_at = flag.then_some(s.current_period_end);
        s.canceled_at = flag.then_some(now);
        s.cancellation_reason = flag.then_some("cancellation_requested");
    }
    emit_updated(st, id, &before);
}

fn prorate(amount: i64, remaining: i64, len: i64) -> i64 {
    if len <= 0 {
        return 0;
    }
    let v = i128::from(amount) * i128::from(remaining.clamp(0, len));
    i64::try_from((v + i128::from(len) / 2) / i128::from(len)).unwrap_or(0)
}

/// Swaps an item's price. Same interval: prorations per `behavior` (`create_prorations`
/// queues them for the next invoice, `always_invoice` bills now, `none` skips them). A new
/// interval restarts the billing cycle today and bills immediately, as Stripe does.
pub fn change_price(
    st: &mut State,
    id: &str,
    item: Option<&str>,
    new_price: &str,
    quantity: Option<i64>,
    behavior: &str,
) -> Result<(), ApiError> {
    let sub = st
        .subscription(id)
        .cloned()
        .ok_or_else(|| ApiError::missing_resource("subscription", id, "id"))?;
    if !sub.status.is_live() {
        return Err(ApiError::state(
            "A canceled subscription can only update its cancellation_details and metadata."
                .to_owned(),
        ));
    }
    let np = st
        .price(new_price)
        .cloned()
        .ok_or_else(|| ApiError::missing_resource("price", new_price, "items[0][price]"))?;
    let new_rec = np.recurring.clone().ok_or_else(|| {
        ApiError::invalid("items[0][price]", "The price must be recurring.".to_owned())
    })?;
    let idx = match item {
        Some(si) => sub.items.iter().position(|i| i.id == si).ok_or_else(|| {
            ApiError::invalid("items[0][id]", format!("No such subscription item: '{si}'"))
        })?,
        None if sub.items.len() == 1 => 0,
        None => return Err(ApiError::missing("items[0][id]")),
    };
    let old = sub.items[idx].clone();
    let op = st.price(&old.price).cloned();
    let qty = quantity.unwrap_or(old.quantity);
    let before = render::subscription(st, &sub);
    let now = st.now;
    let interval_changed = op.as_ref().and_then(|p| p.recurring.clone()) != Some(new_rec.clone());
    if let Some(s) = st.subscription_mut(id) {
        s.items[idx].price = new_price.to_owned();
        s.items[idx].quantity = qty;
    }
    let trialing = sub.status == SubStatus::Trialing;
    let len = sub.current_period_end - sub.current_period_start;
    let remaining = sub.current_period_end - now;
    let old_amount = op.as_ref().map_or(0, |p| p.unit_amount) * old.quantity;
    let credit = -prorate(old_amount, remaining, len);
    let debit = prorate(np.unit_amount * qty, remaining, len);
    let label_old = price_label(st, &old.price);
    let label_new = price_label(st, new_price);
    let mk = |st: &mut State, amount: i64, description: String, price: &str| PendingItem {
        id: st.id("ii"),
        subscription: id.to_owned(),
        amount,
        description,
        price: price.to_owned(),
        period_start: now,
        period_end: sub.current_period_end,
    };
    if trialing || behavior == "none" {
        // No money changes hands during a trial or when prorations are off.
    } else if interval_changed {
        let credit_item = mk(
            st,
            credit,
            format!("Unused time on {label_old}"),
            &old.price,
        );
        st.pending_items.push(credit_item);
        let new_end = new_rec.period_end(now);
        if let Some(s) = st.subscription_mut(id) {
            s.current_period_start = now;
            s.current_period_end = new_end;
            s.billing_cycle_anchor = now;
            if s.cancel_at_period_end {
                s.cancel_at = Some(new_end);
            }
        }
        bill_now(st, id, "subscription_update", true)?;
    } else {
        let c = mk(
            st,
            credit,
            format!("Unused time on {label_old}"),
            &old.price,
        );
        let d = mk(
            st,
            debit,
            format!("Remaining time on {label_new}"),
            new_price,
        );
        st.pending_items.push(c);
        st.pending_items.push(d);
        if behavior == "always_invoice" {
            bill_now(st, id, "subscription_update", false)?;
        }
    }
    emit_updated(st, id, &before);
    Ok(())
}

/// Invoices pending prorations (plus, after a cycle reset, the new period) and charges them.
fn bill_now(
    st: &mut State,
    id: &str,
    reason: &'static str,
    new_period: bool,
) -> Result<(), ApiError> {
    let Some(sub) = st.subscription(id).cloned() else {
        return Ok(());
    };
    let mut lines = take_pending(st, id);
    if new_period {
        lines.extend(period_lines(
            st,
            &sub,
            sub.current_period_start,
            sub.current_period_end,
        ));
    }
    let inv = payments::create_invoice(st, &sub.customer, Some(id), lines, reason, &sub.currency);
    if payments::pay_invoice(st, &inv, false).is_err()
        && let Some(s) = st.subscription_mut(id)
    {
        s.status = SubStatus::PastDue;
    }
    Ok(())
}

/// The current period (or trial) of `id` has ended at `st.now`: cancel if requested,
/// otherwise start the next period and bill it.
pub fn period_ended(st: &mut State, id: &str) {
    let Some(sub) = st.subscription(id).cloned() else {
        return;
    };
    if sub.cancel_at_period_end || sub.cancel_at.is_some_and(|t| t <= st.now) {
        cancel_now(st, id, Some("cancellation_requested"));
        return;
    }
    let before = render::subscription(st, &sub);
    let Some(rec) = sub
        .items
        .first()
        .and_then(|i| st.price(&i.price))
        .and_then(|p| p.recurring.clone())
    else {
        // Nothing to renew (the price vanished): end it rather than stall the clock.
        cancel_now(st, id, None);
        return;
    };
    let start = sub.current_period_end;
    let end = rec.period_end(start);
    let was_trial = sub.status == SubStatus::Trialing;
    if let Some(s) = st.subscription_mut(id) {
        s.current_period_start = start;
        s.current_period_end = end;
        if was_trial {
            s.status = SubStatus::Active;
            s.billing_cycle_anchor = start;
        }
    }
    emit_updated(st, id, &before);
    let Some(sub) = st.subscription(id).cloned() else {
        return;
    };
    let mut lines = take_pending(st, id);
    lines.extend(period_lines(st, &sub, start, end));
    let inv = payments::create_invoice(
        st,
        &sub.customer,
        Some(id),
        lines,
        "subscription_cycle",
        &sub.currency,
    );
    if payments::pay_invoice(st, &inv, false).is_err() {
        set_status(st, id, SubStatus::PastDue);
    }
}
