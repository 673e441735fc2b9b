//! `sync_customer`: reads a customer's billing state from Stripe and writes it, with the user's role.
//! Writing Stripe's latest state (rather than applying event payloads) makes it idempotent and
//! immune to event order.

use super::Billing;
use super::events::{event_recorded, record_event};
use super::notices::{NoticeLinks, queue_event_notices};
use super::read::StripeState;
use super::writes::{unbind_customer, write_billing};
use crate::db::{Database, now_unix};
use crate::domain::{CustomerId, EventId, Role, UserId};
use crate::error::{AppError, AppResult};
use crate::stripe_gateway::VerifiedEvent;
use sqlx::{Any, Transaction};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    Applied {
        user_id: UserId,
        role: Role,
    },
    /// The event was applied before (by this or another instance).
    Duplicate,
    /// No user of ours has this customer; nothing to write but the event record.
    UnknownCustomer,
}

impl fmt::Display for SyncOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncOutcome::Applied { user_id, role } => {
                write!(f, "synced user {user_id}, role: {role}")
            }
            SyncOutcome::Duplicate => f.write_str("duplicate"),
            SyncOutcome::UnknownCustomer => f.write_str("unknown customer"),
        }
    }
}

/// What a sync round is asked to do besides reading Stripe.
pub(super) enum SyncRequest {
    /// A caller that wants Stripe's current state (checkout, the success page, reconciliation).
    Read,
    /// A webhook event, recorded in the round's transaction.
    Event(VerifiedEvent),
    /// Stripe said the customer no longer exists: unbind it, no read needed.
    CustomerGone,
}

/// What one round wrote.
pub(super) struct RoundReport {
    /// The user and the role written; None when no user of ours has the customer (any more).
    applied: Option<(UserId, Role)>,
    /// Events of the round that were recorded before (by another instance).
    duplicates: Vec<EventId>,
}

impl RoundReport {
    fn outcome_for(&self, event_id: Option<&EventId>) -> SyncOutcome {
        let duplicate = event_id.is_some_and(|id| self.duplicates.contains(id));
        match self.applied {
            _ if duplicate => SyncOutcome::Duplicate,
            Some((user_id, role)) => SyncOutcome::Applied { user_id, role },
            None => SyncOutcome::UnknownCustomer,
        }
    }
}

/// Stripe's clock and ours may differ by this much (NTP keeps it far smaller); an event counts as
/// seen by a sync only if the sync's read began this long after the event's `created`.
const CLOCK_MARGIN_SECS: i64 = 5;

/// What the database holds of the customer's last sync.
struct StoredSync {
    user_id: UserId,
    role: Role,
    generation: i64,
    /// When the last committed sync began reading Stripe (our clock).
    read_started: Option<i64>,
    on_test_clock: bool,
}

impl StoredSync {
    /// Whether every event happened in Stripe before the last committed sync read it, so that sync
    /// wrote their effects already: a storm of retried (old) deliveries costs no Stripe call.
    fn covers(&self, events: &[&VerifiedEvent]) -> bool {
        !self.on_test_clock
            && self.read_started.is_some_and(|read| {
                events
                    .iter()
                    .all(|event| event.created + CLOCK_MARGIN_SECS <= read)
            })
    }

    fn applied(&self) -> Option<(UserId, Role)> {
        Some((self.user_id, self.role))
    }
}

async fn stored_sync(db: &Database, customer_id: &CustomerId) -> AppResult<Option<StoredSync>> {
    let row = sqlx::query_as::<_, (UserId, String, i64, Option<i64>, i64)>(
        "SELECT id, role, billing_generation, billing_synced_at, billing_on_test_clock \
         FROM users WHERE stripe_customer_id = $1",
    )
    .bind(customer_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(
        |(user_id, role, generation, read_started, on_test_clock)| StoredSync {
            user_id,
            role: role.parse().unwrap_or(Role::Free),
            generation,
            read_started,
            on_test_clock: on_test_clock != 0,
        },
    ))
}

/// A write of one Stripe read, valid only if the customer is still at `generation`.
struct Write<'a> {
    generation: i64,
    read_started: i64,
    stripe: &'a StripeState,
    links: &'a NoticeLinks,
}

impl Billing {
    /// Reads the customer's subscriptions and invoices from Stripe and writes them, and the access
    /// they grant, in one short transaction. With `event`, the event is recorded in the same
    /// transaction, or, if it was recorded already, nothing is written.
    ///
    /// No database connection, transaction or lock is held while Stripe answers (security review
    /// M3). Ordering comes from `users.billing_generation`: the write happens only if nobody wrote
    /// since this sync began reading Stripe, else it reads again; so the last write is always from
    /// the latest read, on any number of instances and next to `storefront resync` (L4).
    ///
    /// Bursts are coalesced (issue 9): while a sync for this customer runs, further calls wait for
    /// one follow-up sync that covers them all, and each call returns only after a sync that
    /// started after it was made has committed.
    #[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
    pub async fn sync_customer(
        &self,
        customer_id: &CustomerId,
        event: Option<&VerifiedEvent>,
    ) -> AppResult<SyncOutcome> {
        if let Some(event) = event
            && event_recorded(&self.db, &event.id).await?
        {
            return Ok(SyncOutcome::Duplicate);
        }
        // A customer that is not ours (another system on the same Stripe account) costs no Stripe call.
        let Some(stored) = stored_sync(&self.db, customer_id).await? else {
            return record_unknown_customer(&self.db, event).await;
        };
        // An event older than the last sync's Stripe read is already in what that sync wrote.
        if let Some(event) = event
            && stored.covers(&[event])
        {
            let links = self.notice_links();
            let report = record_events(&self.db, &[event], stored.applied(), Some(&links)).await?;
            return Ok(report.outcome_for(Some(&event.id)));
        }
        let request = event.map_or(SyncRequest::Read, |e| SyncRequest::Event(e.clone()));
        self.queued_sync(customer_id, request, event.map(|e| &e.id))
            .await
    }

    /// Stripe answered "No such customer" for the one we stored (L14): unbind it so that the user
    /// can buy again.
    pub(super) async fn forget_customer(&self, customer_id: &CustomerId) -> AppResult<()> {
        self.queued_sync(customer_id, SyncRequest::CustomerGone, None)
            .await
            .map(drop)
    }

    async fn queued_sync(
        &self,
        customer_id: &CustomerId,
        request: SyncRequest,
        event_id: Option<&EventId>,
    ) -> AppResult<SyncOutcome> {
        let (billing, customer) = (self.clone(), customer_id.clone());
        let round = move |batch: Vec<SyncRequest>| {
            let (billing, customer) = (billing.clone(), customer.clone());
            async move { billing.sync_round(&customer, batch).await }
        };
        let result = self
            .sync_queue
            .run(customer_id.as_str(), Some(request), round)
            .await
            .ok_or_else(|| AppError::Internal("the sync task ended without a result".into()))?;
        let report = match result.as_ref() {
            Ok(report) => report,
            Err(error) => return Err(shared_error(error)),
        };
        Ok(report.outcome_for(event_id))
    }

    /// One round for a batch of requests: one Stripe read (none if the customer is gone), one write.
    async fn sync_round(
        &self,
        customer_id: &CustomerId,
        batch: Vec<SyncRequest>,
    ) -> AppResult<RoundReport> {
        let events: Vec<&VerifiedEvent> = batch
            .iter()
            .filter_map(|request| match request {
                SyncRequest::Event(event) => Some(event),
                SyncRequest::Read | SyncRequest::CustomerGone => None,
            })
            .collect();
        let gone = batch.iter().any(|r| matches!(r, SyncRequest::CustomerGone))
            || events.iter().any(|e| e.event_type == "customer.deleted");
        let Some(stored) = stored_sync(&self.db, customer_id).await? else {
            // Unbound since the request was queued (a deletion): only the events are left to record.
            return record_events(&self.db, &events, None, None).await;
        };
        // Only events (no caller that wants a fresh read), all older than the last read: no read.
        let links = self.notice_links();
        if !events.is_empty() && events.len() == batch.len() && stored.covers(&events) {
            return record_events(&self.db, &events, stored.applied(), Some(&links)).await;
        }
        let mut generation = stored.generation;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let read_started = now_unix();
            let stripe = if gone {
                StripeState::CustomerDeleted
            } else {
                self.read_stripe_within_deadline(customer_id).await?
            };
            let write = Write {
                generation,
                read_started,
                stripe: &stripe,
                links: &links,
            };
            match write_if_unchanged(&self.db, customer_id, write, &events).await? {
                Written::Done(report) => {
                    if let Some((user_id, _)) = report.applied {
                        self.users.forget_user(user_id);
                    }
                    return Ok(report);
                }
                Written::Stale(current) => generation = current,
            }
        }
        tracing::warn!("billing state kept changing while syncing; giving up for now");
        Err(AppError::Busy {
            retry_after_secs: 5,
        })
    }
}

/// A sync whose write keeps losing to newer writes gives up after this many reads (503, retried).
const MAX_WRITE_ATTEMPTS: usize = 3;

enum Written {
    Done(RoundReport),
    /// Someone wrote since our read began; this is the generation now.
    Stale(i64),
}

/// One short transaction: record the events, claim the generation, write what Stripe said.
async fn write_if_unchanged(
    db: &Database,
    customer_id: &CustomerId,
    write: Write<'_>,
    events: &[&VerifiedEvent],
) -> AppResult<Written> {
    let mut tx = db.pool.begin().await?;
    let duplicates = record_all(&mut tx, events).await?;
    let now = now_unix();
    let claimed = sqlx::query_scalar::<_, UserId>(
        "UPDATE users SET billing_generation = billing_generation + 1, billing_synced_at = $1 \
         WHERE stripe_customer_id = $2 AND billing_generation = $3 RETURNING id",
    )
    .bind(write.read_started)
    .bind(customer_id)
    .bind(write.generation)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(user_id) = claimed else {
        return match generation_in(&mut tx, customer_id).await? {
            Some(current) => {
                tx.rollback().await?;
                Ok(Written::Stale(current))
            }
            // Unbound meanwhile (deleted customer): only the events are left to record.
            None => {
                tx.commit().await?;
                Ok(Written::Done(RoundReport {
                    applied: None,
                    duplicates,
                }))
            }
        };
    };
    let access = match write.stripe {
        StripeState::Billing {
            billing,
            new_products,
        } => write_billing(&mut tx, user_id, billing, new_products, now, write.links).await?,
        StripeState::CustomerDeleted => unbind_customer(&mut tx, customer_id, now).await?,
    };
    queue_event_notices(&mut tx, events, &duplicates, write.links).await?;
    tx.commit().await?;
    tracing::info!(%user_id, role = %access.role, events = events.len(), "customer synced");
    Ok(Written::Done(RoundReport {
        applied: Some((user_id, access.role)),
        duplicates,
    }))
}

async fn generation_in(
    tx: &mut Transaction<'_, Any>,
    customer_id: &CustomerId,
) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT billing_generation FROM users WHERE stripe_customer_id = $1",
    )
    .bind(customer_id)
    .fetch_optional(&mut **tx)
    .await?)
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

/// Nothing to write for a customer that is not ours, but the event is still recorded once.
async fn record_unknown_customer(
    db: &Database,
    event: Option<&VerifiedEvent>,
) -> AppResult<SyncOutcome> {
    let events: Vec<&VerifiedEvent> = event.into_iter().collect();
    let report = record_events(db, &events, None, None).await?;
    tracing::info!("no user for this Stripe customer; nothing to sync");
    Ok(if report.duplicates.is_empty() {
        SyncOutcome::UnknownCustomer
    } else {
        SyncOutcome::Duplicate
    })
}

/// Records `events` in one transaction and reports which were recorded before; with `links`, queues
/// the mails the events call for in the same transaction.
async fn record_events(
    db: &Database,
    events: &[&VerifiedEvent],
    applied: Option<(UserId, Role)>,
    links: Option<&NoticeLinks>,
) -> AppResult<RoundReport> {
    let mut duplicates = Vec::new();
    if !events.is_empty() {
        let mut tx = db.pool.begin().await?;
        duplicates = record_all(&mut tx, events).await?;
        if let Some(links) = links {
            queue_event_notices(&mut tx, events, &duplicates, links).await?;
        }
        tx.commit().await?;
    }
    Ok(RoundReport {
        applied,
        duplicates,
    })
}

/// Records `events` in `tx`; returns the ids of those recorded before (duplicates).
async fn record_all(
    tx: &mut Transaction<'_, Any>,
    events: &[&VerifiedEvent],
) -> AppResult<Vec<EventId>> {
    let mut duplicates = Vec::new();
    for event in events {
        if !record_event(tx, event).await? {
            duplicates.push(event.id.clone());
        }
    }
    Ok(duplicates)
}
