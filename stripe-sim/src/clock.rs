//! The test clock. All object timestamps come from `Store::now`; advancing it runs whatever
//! falls due in between, in time order: period ends (renewal, trial end, scheduled
//! cancellation), dunning retries and Checkout Session expiry. Its HTTP endpoints are in
//! `admin::clock`.

use crate::billing::{checkout, subscriptions};
use crate::error::ApiError;
use crate::model::{InvoiceStatus, SessionStatus};
use crate::store::Store;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Due {
    SessionExpiry(String),
    PeriodEnd(String),
    Retry(String),
}

/// The earliest thing due at or before `target`.
fn next_due(store: &Store, target: i64) -> Option<(i64, Due)> {
    let sessions = store
        .sessions
        .iter()
        .filter(|s| s.status == SessionStatus::Open)
        .map(|s| (s.expires_at, Due::SessionExpiry(s.id.clone())));
    let periods = store
        .subscriptions
        .iter()
        .filter(|s| s.status.is_live())
        .map(|s| {
            let end = s
                .cancel_at
                .map_or(s.current_period_end, |c| c.min(s.current_period_end));
            (end, Due::PeriodEnd(s.id.clone()))
        });
    let retries = store
        .invoices
        .iter()
        .filter(|i| i.status == InvoiceStatus::Open && i.first_failed_at.is_some())
        .filter_map(|i| {
            i.next_payment_attempt
                .map(|t| (t, Due::Retry(i.id.clone())))
        });
    sessions
        .chain(periods)
        .chain(retries)
        .filter(|(t, _)| *t <= target)
        .min_by_key(|(t, _)| *t)
}

/// Moves the clock to `target`, running everything due on the way.
pub(crate) fn advance_to(store: &mut Store, target: i64) -> Result<(), ApiError> {
    if target < store.now {
        return Err(ApiError::invalid(
            "to",
            "The clock cannot move backwards.".to_owned(),
        ));
    }
    // Each step changes state so the same item is not due again; the bound is a safety net.
    for _ in 0..100_000 {
        let Some((t, due)) = next_due(store, target) else {
            break;
        };
        store.now = store.now.max(t);
        match due {
            Due::SessionExpiry(id) => {
                let _ = checkout::expire(store, &id);
            }
            Due::PeriodEnd(id) => subscriptions::period_ended(store, &id),
            Due::Retry(id) => subscriptions::retry_invoice(store, &id),
        }
    }
    store.now = target;
    Ok(())
}
