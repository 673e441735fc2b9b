//! The background work of a serving instance: the first catalog copy, periodic sweeps and
//! reconciliation. Every periodic task survives its own errors.

use super::{Services, StartupTasks};
use crate::auth::ssr::{AuthCache, CACHE_POLL_EVERY, SessionStoreBackend};
use crate::billing::ssr::Billing;
use crate::db::now_unix;
use crate::mail::MailWorker;
use crate::stripe_sync::ledger;
use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;
use tower_sessions::ExpiredDeletion;

const SESSION_SWEEP_EVERY: Duration = Duration::from_secs(3600);
/// M4: how often customers whose access should have ended or renewed are re-read from Stripe, and
/// how many per pass (bounded, so a backlog cannot spend Stripe's rate limit).
const RECONCILE_EVERY: Duration = Duration::from_secs(600);
const RECONCILE_BATCH: i64 = 50;
/// Webhook events and Checkout Session records are kept this long. Stripe retries an event for up
/// to 3 days; a duplicate older than this is applied again, which a sync makes harmless.
const RETENTION_SECS: i64 = 30 * 24 * 3600;
/// Pending orders whose checkout should have expired are re-read this often (a lost expiry event
/// must not hold stock for long).
const ORDER_SWEEP_EVERY: Duration = Duration::from_secs(60);
const RETENTION_EVERY: Duration = Duration::from_secs(3600);
/// How often an idle instance looks for due mail; a busy outbox is drained without waiting.
const MAIL_POLL_EVERY: Duration = Duration::from_secs(1);

pub(super) fn spawn_background_tasks(
    services: &Services,
    session_store: &SessionStoreBackend,
    mail: Option<MailWorker>,
) -> StartupTasks {
    // Not tower-sessions' own loop, which ends for good at its first error (security review L6).
    let store = session_store.clone();
    spawn_periodic("expired session sweep", SESSION_SWEEP_EVERY, move || {
        let store = store.clone();
        async move { store.delete_expired().await }
    });
    spawn_rate_limiter_cleanup(services);
    spawn_mail_worker(mail);
    let billing = services.billing.clone();
    spawn_periodic("billing reconciliation", RECONCILE_EVERY, move || {
        let billing = billing.clone();
        async move { reconcile(&billing).await }
    });
    let shop = services.shop.clone();
    spawn_periodic("stale order sweep", ORDER_SWEEP_EVERY, move || {
        let shop = shop.clone();
        async move {
            let swept = shop.sweep_stale_orders().await?;
            if swept.looked > 0 {
                tracing::info!(
                    orders = swept.looked,
                    failed = swept.failed,
                    "stale orders swept"
                );
            }
            Ok::<_, crate::error::AppError>(())
        }
    });
    let (billing, db) = (services.billing.clone(), services.state.db.clone());
    spawn_periodic("retention", RETENTION_EVERY, move || {
        let (billing, db) = (billing.clone(), db.clone());
        async move {
            let cutoff = now_unix() - RETENTION_SECS;
            let events = ledger::forget_before(&db, cutoff).await?;
            let sessions = billing.forget_checkout_sessions_before(cutoff).await?;
            tracing::debug!(events, checkout_sessions = sessions, "retention");
            crate::auth::ssr::forget_spent_account_rows(&db).await?;
            AuthCache::forget_old_invalidations(&db).await
        }
    });
    let (cache, db) = (services.auth.cache.clone(), services.state.db.clone());
    spawn_periodic("cache invalidations", CACHE_POLL_EVERY, move || {
        let (cache, db) = (cache.clone(), db.clone());
        async move { cache.apply_invalidations(&db).await }
    });
    services
        .catalog
        .clone()
        .spawn_change_watcher(services.state.db.clone());
    let services = services.clone();
    StartupTasks(tokio::spawn(async move {
        fill_empty_catalog(&services).await;
        services.check_stripe_account().await;
    }))
}

/// Re-reads customers whose stored access should have ended or renewed by now (M4).
async fn reconcile(billing: &Billing) -> crate::error::AppResult<()> {
    let synced = billing.reconcile(now_unix(), RECONCILE_BATCH).await?;
    if synced > 0 {
        tracing::info!(customers = synced, "billing reconciled");
    }
    Ok(())
}

/// At start-up with an empty catalog (first run), copy it from Stripe. If Stripe cannot be reached,
/// the app still starts and keeps trying in the background; the pricing page says plans are coming.
async fn fill_empty_catalog(services: &Services) {
    if !services.catalog.current().plans.is_empty() {
        return;
    }
    match services.sync_catalog().await {
        Ok((report, _)) => tracing::info!(
            products = report.products,
            prices = report.prices,
            "catalog copied from Stripe"
        ),
        Err(error) => {
            tracing::warn!(%error, "catalog sync failed; retrying in the background");
            let services = services.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(30));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    match services.sync_catalog().await {
                        Ok(_) => break,
                        Err(error) => tracing::warn!(%error, "catalog sync failed again"),
                    }
                }
            });
        }
    }
}

/// One worker per instance; the outbox's leases keep instances from sending the same mail.
fn spawn_mail_worker(mail: Option<MailWorker>) {
    let Some(worker) = mail else {
        tracing::warn!("MAIL_DISABLED=1: mails are written to the outbox but not sent");
        return;
    };
    spawn_periodic("mail outbox", MAIL_POLL_EVERY, move || {
        let worker = worker.clone();
        async move { worker.drain().await }
    });
}

fn spawn_rate_limiter_cleanup(services: &Services) {
    let (auth, budget) = (services.auth.clone(), services.budget.clone());
    spawn_periodic("rate limiter cleanup", Duration::from_secs(60), move || {
        let (auth, budget) = (auth.clone(), budget.clone());
        async move {
            auth.rate_limiter.forget_idle_keys();
            budget.forget_idle_keys();
            Ok::<(), std::convert::Infallible>(())
        }
    });
}

/// Runs `task` every `every` for the life of the process; a failed run is logged and the next one
/// runs as planned.
fn spawn_periodic<F, Fut, E>(
    name: &'static str,
    every: Duration,
    task: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), E>> + Send,
    E: std::fmt::Display,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // A panic in one run must not end the task for the life of the process (security review
            // 2, L10): the sweep, the mail worker, the invalidation poll and reconciliation run here.
            match AssertUnwindSafe(task()).catch_unwind().await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::warn!(task = name, %error, "periodic task failed; it runs again next time");
                }
                Err(_) => {
                    tracing::error!(
                        task = name,
                        "periodic task panicked; it runs again next time"
                    );
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Security review 2, L10: a panic in one run ended the task for good.
    #[tokio::test(start_paused = true)]
    async fn l10_a_periodic_task_keeps_running_after_a_panic() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let task = spawn_periodic("test", Duration::from_secs(10), move || {
            let run = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                assert!(run != 0, "a bug in the first run");
                Ok::<(), String>(())
            }
        });
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
        assert!(!task.is_finished(), "the task outlived the panic");
        assert!(runs.load(Ordering::SeqCst) >= 3, "and ran again");
        task.abort();
    }

    /// Security review L6: one failed run does not end the task.
    #[tokio::test(start_paused = true)]
    async fn l6_a_periodic_task_keeps_running_after_an_error() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let task = spawn_periodic("test", Duration::from_secs(10), move || {
            let run = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if run == 0 {
                    Err("database busy")
                } else {
                    Ok(())
                }
            }
        });
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
        assert!(
            runs.load(Ordering::SeqCst) >= 3,
            "ran again after the error"
        );
        assert!(!task.is_finished());
        task.abort();
    }
}
