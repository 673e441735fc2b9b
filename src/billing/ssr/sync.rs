//! `sync_customer`: reads a customer's billing state from Stripe and writes it, with the user's role.
//! Writing Stripe's latest state (rather than applying event payloads) makes it idempotent and
//! immune to event order. It runs in the shared envelope (`crate::stripe_sync`): duplicates first,
//! coalesced per customer, one deadline for the read, events recorded with the write.

use super::Billing;
use super::notices::{NoticeLinks, queue_event_notices};
use super::read::StripeState;
use super::writes::{unbind_customer, write_billing};
use crate::db::{Database, now_unix};
use crate::domain::{CustomerId, EventId, Role, UserId};
use crate::error::{AppError, AppResult};
use crate::stripe_gateway::VerifiedEvent;
use crate::stripe_sync::{RoundReport, SyncOutcome, ledger};
use sqlx::{Any, Transaction};
use std::fmt;

/// What a customer sync wrote: the user and the role their subscriptions grant now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerSynced {
    pub user_id: UserId,
    pub role: Role,
}

impl fmt::Display for CustomerSynced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "synced user {}, role: {}", self.user_id, self.role)
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

type Report = RoundReport<CustomerSynced>;

/// An event counts as seen by a sync only if the sync's read began at least this long after the
/// event's `created`, both on Stripe's clock: `created` is rounded down to the second, and the read's
/// start is never later than it really was (`StripeGateway::read_began_at`), so one second means
/// the read began after the event happened.
const CLOCK_MARGIN_SECS: i64 = 1;

/// Issue 20: a fresh event (one the margin does not yet allow any read to cover) waits until a read
/// could, at most this long, before its sync is queued. One read then covers every event of the
/// customer created up to that second, the ones still on their way included: a burst from Stripe's
/// dashboard or a renewal day costs a read per customer per second of events, instead of a read for
/// every one or two deliveries. Stripe waits far longer for an answer.
const FRESH_EVENT_HOLD: std::time::Duration = std::time::Duration::from_millis(1500);
/// Up to this much is added to each hold at random, so that instances holding events of the same
/// customer do not all read at the same instant: the first one's write then covers the others'.
const FRESH_EVENT_SPREAD_MILLIS: u64 = 250;

/// What the database holds of the customer's last sync.
struct StoredSync {
    user_id: UserId,
    role: Role,
    generation: i64,
    /// When the last committed sync began reading Stripe (Stripe's clock, as its `Date` shows it).
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

    fn applied(&self) -> Option<CustomerSynced> {
        Some(CustomerSynced {
            user_id: self.user_id,
            role: self.role,
        })
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
struct SyncWrite<'a> {
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
    /// Bursts are coalesced (the envelope): while a sync for this customer runs, further calls wait
    /// for one follow-up sync that covers them all, and each call returns only after a sync that
    /// started after it was made has committed.
    #[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
    pub async fn sync_customer(
        &self,
        customer_id: &CustomerId,
        event: Option<&VerifiedEvent>,
    ) -> AppResult<SyncOutcome<CustomerSynced>> {
        if self.syncs.already_applied(event).await? {
            return Ok(SyncOutcome::Duplicate);
        }
        // A customer that is not ours (another system on the same Stripe account) costs no Stripe call.
        let Some(stored) = stored_sync(&self.db, customer_id).await? else {
            tracing::info!("no user for this Stripe customer; nothing to sync");
            return self.syncs.record_not_ours(event).await;
        };
        if let Some(event) = event
            && let Some(covered) = self.covered_after_hold(customer_id, event, stored).await?
        {
            return Ok(covered);
        }
        let request = event.map_or(SyncRequest::Read, |e| SyncRequest::Event(e.clone()));
        self.queued_sync(customer_id, request, event.map(|e| &e.id))
            .await
    }

    /// An event older than the last sync's Stripe read is already in what that sync wrote: recorded,
    /// no read. A fresh one first waits until a read could cover it (`FRESH_EVENT_HOLD`), since
    /// another delivery's sync, here or on another instance, may by then have read Stripe.
    async fn covered_after_hold(
        &self,
        customer_id: &CustomerId,
        event: &VerifiedEvent,
        mut stored: StoredSync,
    ) -> AppResult<Option<SyncOutcome<CustomerSynced>>> {
        let hold = self
            .gateway
            .until_stripe_time(event.created + CLOCK_MARGIN_SECS, FRESH_EVENT_HOLD);
        if !hold.is_zero() && !stored.on_test_clock && !stored.covers(&[event]) {
            let spread =
                std::time::Duration::from_millis(fastrand::u64(..FRESH_EVENT_SPREAD_MILLIS));
            tokio::time::sleep(hold + spread).await;
            match stored_sync(&self.db, customer_id).await? {
                Some(now) => stored = now,
                None => return self.syncs.record_not_ours(Some(event)).await.map(Some),
            }
        }
        if !stored.covers(&[event]) {
            return Ok(None);
        }
        let links = self.notice_links();
        let report = record_events(&self.db, &[event], stored.applied(), Some(&links)).await?;
        Ok(Some(report.outcome_for(Some(&event.id))))
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
    ) -> AppResult<SyncOutcome<CustomerSynced>> {
        let (billing, customer) = (self.clone(), customer_id.clone());
        let round = move |batch: Vec<SyncRequest>| {
            let (billing, customer) = (billing.clone(), customer.clone());
            async move { billing.sync_round(&customer, batch).await }
        };
        self.syncs
            .run(customer_id.as_str(), request, event_id, round)
            .await
    }

    /// One round for a batch of requests: one Stripe read (none if the customer is gone), one write.
    async fn sync_round(
        &self,
        customer_id: &CustomerId,
        batch: Vec<SyncRequest>,
    ) -> AppResult<Report> {
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
        let only_events = !events.is_empty() && events.len() == batch.len();
        if only_events && stored.covers(&events) {
            return record_events(&self.db, &events, stored.applied(), Some(&links)).await;
        }
        let mut generation = stored.generation;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let start = self.gateway.begin_read();
            let stripe = if gone {
                StripeState::CustomerDeleted
            } else {
                self.syncs
                    .read_within_deadline(self.read_stripe(customer_id))
                    .await?
            };
            // Stripe's clock, which events' `created` is on (security review 2, L3).
            let read_started = self.gateway.read_began_at(start);
            let write = SyncWrite {
                generation,
                read_started,
                stripe: &stripe,
                links: &links,
            };
            match write_if_unchanged(&self.db, customer_id, write, &events).await? {
                Written::Done(report) => return Ok(report),
                Written::Stale(current) => generation = current,
            }
            // Overtaken by another sync (another instance's): if that one's read began after every
            // event of this round happened, its write holds their effects, and a second read would
            // only repeat it. A caller that asked for a read of its own still gets one.
            if only_events
                && let Some(newer) = stored_sync(&self.db, customer_id).await?
                && newer.covers(&events)
            {
                return record_events(&self.db, &events, newer.applied(), Some(&links)).await;
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
    Done(Report),
    /// Someone wrote since our read began; this is the generation now.
    Stale(i64),
}

/// One short transaction: record the events, claim the generation, write what Stripe said.
async fn write_if_unchanged(
    db: &Database,
    customer_id: &CustomerId,
    write: SyncWrite<'_>,
    events: &[&VerifiedEvent],
) -> AppResult<Written> {
    let mut tx = db.pool.begin().await?;
    let duplicates = ledger::record_all(&mut tx, events).await?;
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
                Ok(Written::Done(Report::nothing_of_ours(duplicates)))
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
        applied: Some(CustomerSynced {
            user_id,
            role: access.role,
        }),
        duplicates,
        changed_user: Some(user_id),
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

/// Records `events` in one transaction and reports which were recorded before; with `links`, queues
/// the mails the events call for in the same transaction.
async fn record_events(
    db: &Database,
    events: &[&VerifiedEvent],
    applied: Option<CustomerSynced>,
    links: Option<&NoticeLinks>,
) -> AppResult<Report> {
    let mut duplicates = Vec::new();
    if !events.is_empty() {
        let mut tx = db.pool.begin().await?;
        duplicates = ledger::record_all(&mut tx, events).await?;
        if let Some(links) = links {
            queue_event_notices(&mut tx, events, &duplicates, links).await?;
        }
        tx.commit().await?;
    }
    Ok(RoundReport {
        applied,
        duplicates,
        // Only events and their notices were written: the user's pages show nothing new.
        changed_user: None,
    })
}
