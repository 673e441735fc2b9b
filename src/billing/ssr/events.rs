//! The `stripe_events` table: which webhook events have been applied. An event is recorded in the
//! transaction that writes its effects, so "recorded" means "applied".

use crate::db::{Database, now_unix};
use crate::domain::EventId;
use crate::error::AppResult;
use crate::stripe_gateway::VerifiedEvent;
use sqlx::{Any, Transaction};

pub async fn event_recorded(db: &Database, event_id: &EventId) -> AppResult<bool> {
    let count = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM stripe_events WHERE id = $1")
        .bind(event_id)
        .fetch_one(&db.pool)
        .await?;
    Ok(count > 0)
}

/// Records the event; false when it was recorded already (a concurrent delivery got there first).
pub async fn record_event(tx: &mut Transaction<'_, Any>, event: &VerifiedEvent) -> AppResult<bool> {
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

impl super::Billing {
    /// Retention: forgets webhook events received, and Checkout Sessions created, before `cutoff`.
    pub async fn forget_before(&self, cutoff: i64) -> AppResult<()> {
        let events = sqlx::query("DELETE FROM stripe_events WHERE received_at < $1")
            .bind(cutoff)
            .execute(&self.db.pool)
            .await?;
        let sessions = sqlx::query("DELETE FROM checkout_sessions WHERE created_at < $1")
            .bind(cutoff)
            .execute(&self.db.pool)
            .await?;
        tracing::debug!(
            events = events.rows_affected(),
            checkout_sessions = sessions.rows_affected(),
            "retention"
        );
        Ok(())
    }
}
