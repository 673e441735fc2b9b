//! The webhook ledger, table `stripe_events`: which events have been applied. An event is recorded in
//! the transaction that writes its effects, so "recorded" means "applied"; a redelivery finds it and
//! costs nothing. The webhook route, billing's and the shop's syncs and the catalog all record here.

use crate::db::{Database, now_unix};
use crate::domain::EventId;
use crate::error::AppResult;
use crate::stripe_gateway::VerifiedEvent;
use sqlx::{Any, Transaction};

/// Whether the event was applied before (by this or another instance). Read before any Stripe call.
pub async fn already_applied(db: &Database, event_id: &EventId) -> AppResult<bool> {
    let count = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM stripe_events WHERE id = $1")
        .bind(event_id)
        .fetch_one(&db.pool)
        .await?;
    Ok(count > 0)
}

/// Records the event in `tx`; false when it was recorded already (a concurrent delivery got there
/// first: its insert holds the key until it commits, and then this one sees it).
pub async fn record(tx: &mut Transaction<'_, Any>, event: &VerifiedEvent) -> AppResult<bool> {
    let inserted = sqlx::query(
        "INSERT INTO stripe_events (id, type, created, livemode, received_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&event.id)
    .bind(&event.event_type)
    .bind(event.created)
    .bind(event.livemode as i64)
    .bind(now_unix())
    .execute(&mut **tx)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Records `events` in `tx`; returns the ids of those recorded before (duplicates).
pub async fn record_all(
    tx: &mut Transaction<'_, Any>,
    events: &[&VerifiedEvent],
) -> AppResult<Vec<EventId>> {
    let mut duplicates = Vec::new();
    for event in events {
        if !record(tx, event).await? {
            duplicates.push(event.id.clone());
        }
    }
    Ok(duplicates)
}

/// Records `events` with no other effect (nothing of ours to write); returns the duplicates.
pub async fn record_only(db: &Database, events: &[&VerifiedEvent]) -> AppResult<Vec<EventId>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = db.pool.begin().await?;
    let duplicates = record_all(&mut tx, events).await?;
    tx.commit().await?;
    Ok(duplicates)
}

/// Retention: forgets events received before `cutoff`. Stripe retries an event for up to 3 days; a
/// duplicate older than the retention is applied again, which a sync (re-reading Stripe) makes
/// harmless.
pub async fn forget_before(db: &Database, cutoff: i64) -> AppResult<u64> {
    let deleted = sqlx::query("DELETE FROM stripe_events WHERE received_at < $1")
        .bind(cutoff)
        .execute(&db.pool)
        .await?;
    Ok(deleted.rows_affected())
}
