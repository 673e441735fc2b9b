//! The webhook route: verification, exactly-once application, any order, failures that Stripe retries.
//! Here: delivering hand-made or recorded events to the app, as Stripe does.

mod catalog_and_strangers;
mod ordering;
mod storm;
mod verification;

use crate::helpers::TestApp;

async fn events_recorded(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM stripe_events").await
}

/// How many times the event `id` is recorded as processed (0 or 1).
async fn times_recorded(app: &TestApp, id: &str) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM stripe_events WHERE id = $1")
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count query")
}
