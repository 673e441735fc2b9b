//! The test clock. All object timestamps come from `Store::now`; advancing it runs whatever
//! falls due in between, in time order: period ends (renewal, trial end, scheduled
//! cancellation), dunning retries, Checkout Session expiry, bank debit settlement and
//! `customer.subscription.trial_will_end` notices. Its HTTP endpoints are in
//! `admin::clock`.

use crate::billing::{checkout, payment_mode, subscriptions};
use crate::error::ApiError;
use crate::model::{InvoiceStatus, SessionStatus};
use crate::store::Store;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Due {
    SessionExpiry(String),
    PeriodEnd(String),
    Retry(String),
    /// A bank debit settles (or fails), 60 s after the Checkout Session completed.
    BankSettlement(String),
    /// `customer.subscription.trial_will_end`, 3 days before a trial ends.
    TrialWillEnd(String),
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
    let settlements = store.charges.iter().filter_map(|c| {
        c.settles
            .map(|(t, _)| (t, Due::BankSettlement(c.id.clone())))
    });
    let trial_notices = store.subscriptions.iter().filter_map(|s| {
        subscriptions::trial_will_end_at(store, &s.id).map(|t| (t, Due::TrialWillEnd(s.id.clone())))
    });
    sessions
        .chain(periods)
        .chain(retries)
        .chain(settlements)
        .chain(trial_notices)
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
            Due::BankSettlement(id) => payment_mode::settle_bank_debit(store, &id),
            Due::TrialWillEnd(id) => subscriptions::trial_will_end(store, &id),
        }
    }
    store.now = target;
    Ok(())
}
