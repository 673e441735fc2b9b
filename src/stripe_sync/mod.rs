//! The envelope every sync from Stripe runs in: billing's `sync_customer` and the shop's
//! `sync_order` share it, and each keeps only its own read and write. Server only.
//!
//! What the envelope guarantees, for every sync (docs/RELIABILITY.md):
//! - **Duplicates cost nothing:** an event already in the ledger is answered before any Stripe call.
//! - **Bursts cost two reads:** syncs of one key (a customer, an order) are coalesced in each
//!   instance; while a round runs, further requests join one follow-up round (`coalesce`).
//! - **A slow Stripe fails the sync, not the server:** a round's Stripe reads share one deadline
//!   (`STRIPE_SYNC_DEADLINE_SECS`), so the webhook answers 503 and Stripe delivers again.
//! - **Recorded means applied:** a round records its events in the transaction of its write
//!   (`ledger::record_all`); a failed round records nothing.
//! - **Pages follow at once:** after a round commits, the user's cached pages on this instance are
//!   forgotten (other instances learn it from the triggers' `cache_invalidations`).

mod coalesce;
pub mod ledger;

use crate::auth::ssr::UserPages;
use crate::db::Database;
use crate::domain::{EventId, UserId};
use crate::error::{AppError, AppResult};
use crate::stripe_gateway::VerifiedEvent;
use coalesce::Coalescer;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// What a sync did for one caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome<A> {
    /// Stripe's state was read (or known to be covered) and written; `A` says what was written.
    Applied(A),
    /// The event was applied before (by this or another instance).
    Duplicate,
    /// Nothing of ours (another system's customer or order, or one deleted): only recorded.
    NotOurs,
}

impl<A: fmt::Display> fmt::Display for SyncOutcome<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncOutcome::Applied(applied) => applied.fmt(f),
            SyncOutcome::Duplicate => f.write_str("duplicate"),
            SyncOutcome::NotOurs => f.write_str("not ours"),
        }
    }
}

/// What one round wrote, for every caller it answers.
#[derive(Debug)]
pub struct RoundReport<A> {
    /// What was written; None when nothing of ours matched (only events were recorded).
    pub applied: Option<A>,
    /// Events of the round that were recorded before (by another instance).
    pub duplicates: Vec<EventId>,
    /// The user whose pages show what the round changed.
    pub changed_user: Option<UserId>,
}

impl<A: Clone> RoundReport<A> {
    /// A round that found nothing of ours and only recorded its events.
    pub fn nothing_of_ours(duplicates: Vec<EventId>) -> Self {
        Self {
            applied: None,
            duplicates,
            changed_user: None,
        }
    }

    pub fn outcome_for(&self, event_id: Option<&EventId>) -> SyncOutcome<A> {
        let duplicate = event_id.is_some_and(|id| self.duplicates.contains(id));
        match &self.applied {
            _ if duplicate => SyncOutcome::Duplicate,
            Some(applied) => SyncOutcome::Applied(applied.clone()),
            None => SyncOutcome::NotOurs,
        }
    }
}

/// One kind of sync (customers, orders): its coalescing queue, deadline and page invalidation.
/// `T` is what a request brings to a round (its event), `A` what a round reports as written.
pub struct SyncEnvelope<T, A> {
    db: Database,
    deadline: Duration,
    pages: UserPages,
    rounds: Arc<Coalescer<T, AppResult<RoundReport<A>>>>,
}

impl<T, A> Clone for SyncEnvelope<T, A> {
    fn clone(&self) -> Self {
        Self {
            db: self.db.clone(),
            deadline: self.deadline,
            pages: self.pages.clone(),
            rounds: self.rounds.clone(),
        }
    }
}

impl<T, A> SyncEnvelope<T, A>
where
    T: Send + 'static,
    A: Clone + Send + Sync + 'static,
{
    pub fn new(db: Database, deadline: Duration, pages: UserPages) -> Self {
        Self {
            db,
            deadline,
            pages,
            rounds: Arc::default(),
        }
    }

    /// Whether `event` was applied before: checked first, so a redelivery costs no Stripe call.
    pub async fn already_applied(&self, event: Option<&VerifiedEvent>) -> AppResult<bool> {
        match event {
            Some(event) => ledger::already_applied(&self.db, &event.id).await,
            None => Ok(false),
        }
    }

    /// A round's Stripe reads, bounded as a whole: a slow Stripe fails this sync (the webhook is
    /// retried by Stripe) instead of holding a request for minutes.
    pub async fn read_within_deadline<R>(
        &self,
        read: impl Future<Output = AppResult<R>>,
    ) -> AppResult<R> {
        match tokio::time::timeout(self.deadline, read).await {
            Ok(result) => result,
            Err(_) => Err(AppError::PaymentProviderUnavailable(format!(
                "no complete answer from Stripe within {:?}",
                self.deadline
            ))),
        }
    }

    /// An event about nothing of ours: recorded, so that a redelivery is a duplicate.
    pub async fn record_not_ours(
        &self,
        event: Option<&VerifiedEvent>,
    ) -> AppResult<SyncOutcome<A>> {
        let events: Vec<&VerifiedEvent> = event.into_iter().collect();
        let duplicates = ledger::record_only(&self.db, &events).await?;
        Ok(RoundReport::<A>::nothing_of_ours(duplicates).outcome_for(event.map(|e| &e.id)))
    }

    /// Queues `request` for `key` and answers from the first round that starts after this call.
    /// `round` does the work for a batch of requests (read Stripe within the deadline, then one
    /// transaction that records the batch's events with the write); after it commits, the changed
    /// user's pages are forgotten here.
    pub async fn run<F, Fut>(
        &self,
        key: &str,
        request: T,
        event_id: Option<&EventId>,
        round: F,
    ) -> AppResult<SyncOutcome<A>>
    where
        F: Fn(Vec<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = AppResult<RoundReport<A>>> + Send,
    {
        let pages = self.pages.clone();
        let round = Arc::new(round);
        let then_forget_pages = move |batch: Vec<T>| {
            let (round, pages) = (round.clone(), pages.clone());
            async move {
                let report = round(batch).await;
                if let Ok(RoundReport {
                    changed_user: Some(user_id),
                    ..
                }) = &report
                {
                    pages.forget(*user_id);
                }
                report
            }
        };
        let result = self
            .rounds
            .run(key, Some(request), then_forget_pages)
            .await
            .ok_or_else(|| AppError::Internal("the sync task ended without a result".into()))?;
        match result.as_ref() {
            Ok(report) => Ok(report.outcome_for(event_id)),
            Err(error) => Err(shared_error(error)),
        }
    }
}

/// A round's error, for each call it answers: the same kind (so the same status and message),
/// described rather than moved, since one error answers many calls.
fn shared_error(error: &AppError) -> AppError {
    match error {
        AppError::PaymentProviderUnavailable(detail) => {
            AppError::PaymentProviderUnavailable(detail.clone())
        }
        AppError::PaymentProvider(detail) => AppError::PaymentProvider(detail.clone()),
        AppError::Busy { retry_after_secs } => AppError::Busy {
            retry_after_secs: *retry_after_secs,
        },
        // A database hiccup: 503, so Stripe retries the event.
        AppError::Database(_) => AppError::Busy {
            retry_after_secs: 5,
        },
        other => AppError::Internal(other.to_string()),
    }
}
