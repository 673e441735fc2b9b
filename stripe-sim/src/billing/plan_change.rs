//! Swapping a subscription item's price, with prorations: credit for the unused time on the
//! old price, a charge for the rest of the period on the new one.

use super::payments;
use super::subscriptions::{emit_updated, period_lines, price_label, take_pending};
use crate::error::ApiError;
use crate::model::{PendingItem, Price, Recurring, SubStatus, Subscription};
use crate::render::billing as render;
use crate::store::Store;

fn prorate(amount: i64, remaining: i64, len: i64) -> i64 {
    if len <= 0 {
        return 0;
    }
    let v = i128::from(amount) * i128::from(remaining.clamp(0, len));
    i64::try_from((v + i128::from(len) / 2) / i128::from(len)).unwrap_or(0)
}

/// A checked price change of one subscription item.
struct Change {
    /// The subscription before the change.
    sub: Subscription,
    index: usize,
    old_price: String,
    /// What the item cost per period before the change (unit amount × quantity).
    old_amount: i64,
    new_price: Price,
    new_recurring: Recurring,
    quantity: i64,
    interval_changed: bool,
}

impl Change {
    fn resolve(
        store: &Store,
        id: &str,
        item: Option<&str>,
        new_price: &str,
        quantity: Option<i64>,
    ) -> Result<Self, ApiError> {
        let sub = store
            .subscription(id)
            .cloned()
            .ok_or_else(|| ApiError::missing_resource("subscription", id, "id"))?;
        if !sub.status.is_live() {
            return Err(ApiError::state(
                "A canceled subscription can only update its cancellation_details and metadata."
                    .to_owned(),
            ));
        }
        let price = store
            .price(new_price)
            .cloned()
            .ok_or_else(|| ApiError::missing_resource("price", new_price, "items[0][price]"))?;
        let new_recurring = price.recurring.clone().ok_or_else(|| {
            ApiError::invalid("items[0][price]", "The price must be recurring.".to_owned())
        })?;
        let index = match item {
            Some(si) => sub.items.iter().position(|i| i.id == si).ok_or_else(|| {
                ApiError::invalid("items[0][id]", format!("No such subscription item: '{si}'"))
            })?,
            None if sub.items.len() == 1 => 0,
            None => return Err(ApiError::missing("items[0][id]")),
        };
        let old = &sub.items[index];
        let old_price = store.price(&old.price);
        let interval_changed =
            old_price.and_then(|p| p.recurring.clone()) != Some(new_recurring.clone());
        Ok(Self {
            old_price: old.price.clone(),
            old_amount: old_price.map_or(0, |p| p.unit_amount) * old.quantity,
            quantity: quantity.unwrap_or(old.quantity),
            index,
            new_price: price,
            new_recurring,
            interval_changed,
            sub,
        })
    }

    /// `amount` for the part of the current period left at `now`.
    fn prorated(&self, amount: i64, now: i64) -> i64 {
        let (start, end) = (self.sub.current_period_start, self.sub.current_period_end);
        prorate(amount, end - now, end - start)
    }

    /// A proration for the next invoice, covering the rest of the current period.
    fn pending(
        &self,
        store: &mut Store,
        amount: i64,
        description: String,
        price: &str,
    ) -> PendingItem {
        PendingItem {
            id: store.id("ii"),
            subscription: self.sub.id.clone(),
            amount,
            description,
            price: price.to_owned(),
            period_start: store.now,
            period_end: self.sub.current_period_end,
        }
    }
}

/// Swaps an item's price. Same interval: prorations per `behavior` (`create_prorations`
/// queues them for the next invoice, `always_invoice` bills now, `none` skips them). A new
/// interval restarts the billing cycle today and bills immediately, as Stripe does.
pub(crate) fn change_price(
    store: &mut Store,
    id: &str,
    item: Option<&str>,
    new_price: &str,
    quantity: Option<i64>,
    behavior: &str,
) -> Result<(), ApiError> {
    let change = Change::resolve(store, id, item, new_price, quantity)?;
    let before = render::subscription(store, &change.sub);
    if let Some(s) = store.subscription_mut(id) {
        s.items[change.index].price = new_price.to_owned();
        s.items[change.index].quantity = change.quantity;
    }
    if change.sub.status == SubStatus::Trialing || behavior == "none" {
        // No money changes hands during a trial or when prorations are off.
    } else if change.interval_changed {
        restart_cycle(store, &change)?;
    } else {
        queue_prorations(store, &change)?;
        if behavior == "always_invoice" {
            bill_now(store, id, "subscription_update", false)?;
        }
    }
    emit_updated(store, id, &before);
    Ok(())
}

/// A new interval: credit the unused time, start a new period today and bill it now.
fn restart_cycle(store: &mut Store, change: &Change) -> Result<(), ApiError> {
    let now = store.now;
    let credit = -change.prorated(change.old_amount, now);
    let label = price_label(store, &change.old_price);
    let item = change.pending(
        store,
        credit,
        format!("Unused time on {label}"),
        &change.old_price,
    );
    store.pending_items.push(item);
    let new_end = change.new_recurring.period_end(now);
    if let Some(s) = store.subscription_mut(&change.sub.id) {
        s.current_period_start = now;
        s.current_period_end = new_end;
        s.billing_cycle_anchor = now;
        if s.cancel_at_period_end {
            s.cancel_at = Some(new_end);
        }
    }
    bill_now(store, &change.sub.id, "subscription_update", true)
}

/// Same interval: queue the credit for the old price and the charge for the new one.
fn queue_prorations(store: &mut Store, change: &Change) -> Result<(), ApiError> {
    let now = store.now;
    let credit = -change.prorated(change.old_amount, now);
    let debit = change.prorated(change.new_price.unit_amount * change.quantity, now);
    let old_label = price_label(store, &change.old_price);
    let new_label = price_label(store, &change.new_price.id);
    let credit_item = change.pending(
        store,
        credit,
        format!("Unused time on {old_label}"),
        &change.old_price,
    );
    let debit_item = change.pending(
        store,
        debit,
        format!("Remaining time on {new_label}"),
        &change.new_price.id,
    );
    store.pending_items.push(credit_item);
    store.pending_items.push(debit_item);
    Ok(())
}

/// Invoices pending prorations (plus, after a cycle reset, the new period) and charges them.
fn bill_now(
    store: &mut Store,
    id: &str,
    reason: &'static str,
    new_period: bool,
) -> Result<(), ApiError> {
    let Some(sub) = store.subscription(id).cloned() else {
        return Ok(());
    };
    let mut lines = take_pending(store, id);
    if new_period {
        lines.extend(period_lines(
            store,
            &sub,
            sub.current_period_start,
            sub.current_period_end,
        ));
    }
    let invoice =
        payments::create_invoice(store, &sub.customer, Some(id), lines, reason, &sub.currency);
    if payments::pay_invoice(store, &invoice, false).is_err()
        && let Some(s) = store.subscription_mut(id)
    {
        s.status = SubStatus::PastDue;
    }
    Ok(())
}
