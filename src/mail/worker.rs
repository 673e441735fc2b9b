//! The outbox worker: one per instance, any number of instances on one database. It claims one due
//! row at a time with a lease, sends it over SMTP, and marks it sent, or schedules a retry.
//!
//! The claim is a single conditional UPDATE, so two workers never hold the same row: on SQLite
//! writes are serialised; on PostgreSQL the second UPDATE of a row waits for the first and then
//! re-checks its WHERE against the row as updated, where the lease is no longer free. A worker that
//! dies mid-send leaves its lease to run out, and the row becomes due again.

use super::MailKind;
use crate::config::MailConfig;
use crate::db::{Database, now_unix};
use crate::error::{AppError, AppResult};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use std::time::Duration;

/// How long a claimed row is ours. Well above `SEND_DEADLINE`, so no send outlives its lease and
/// another instance cannot claim a row that is still being sent (clock skew between instances eats
/// into the difference).
const LEASE_SECS: i64 = 120;
/// The whole of one send (connect, greeting, envelope, data); each SMTP step has `SMTP_TIMEOUT`.
const SEND_DEADLINE: Duration = Duration::from_secs(30);
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);
/// After this many failed attempts a mail is left unsent (logged as an error, row kept).
const MAX_ATTEMPTS: i64 = 20;
/// Retries wait `retry_base` × 2^(attempts − 1), at most this long.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(600);
/// Marking a sent mail is retried this often: a mark that never lands means a second send.
const MARK_SENT_TRIES: u32 = 3;

/// Sends the outbox. Cheap to clone (the SMTP transport is a shared pool).
#[derive(Clone)]
pub struct MailWorker {
    db: Database,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    retry_base: Duration,
}

/// A row this worker holds the lease of.
#[derive(sqlx::FromRow)]
struct Claimed {
    id: i64,
    kind: String,
    recipient: String,
    subject: String,
    text_body: String,
    html_body: String,
    message_id: String,
    attempts: i64,
}

impl MailWorker {
    /// None when mail is disabled (`MAIL_DISABLED=1`): the outbox is written but nobody sends it.
    pub fn new(db: Database, config: &MailConfig) -> AppResult<Option<Self>> {
        let Some(url) = &config.smtp_url else {
            return Ok(None);
        };
        // The error is lettre's description, never the URL (it may carry a password).
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
            .map_err(|e| AppError::Internal(format!("SMTP_URL: {e}")))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Some(Self {
            db,
            transport,
            from: config.from.clone(),
            retry_base: config.retry_base,
        }))
    }

    /// Sends due mails one after another until none is left (a busy outbox drains at once; the
    /// caller polls again later). Fails only when the database does.
    pub async fn drain(&self) -> AppResult<()> {
        while let Some(row) = claim(&self.db, now_unix()).await? {
            self.deliver(row).await?;
        }
        Ok(())
    }

    #[tracing::instrument(name = "mail", skip_all, fields(outbox_id = row.id, kind = %row.kind, attempts = row.attempts))]
    async fn deliver(&self, row: Claimed) -> AppResult<()> {
        let sent = match tokio::time::timeout(SEND_DEADLINE, self.send(&row)).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "no answer from the SMTP server within {SEND_DEADLINE:?}"
            )),
        };
        match sent {
            // The goodbye of an erased account is its last trace: gone once delivered (issue 21).
            Ok(()) if row.kind == MailKind::AccountDeleted.as_str() => {
                forget(&self.db, row.id).await?;
                tracing::info!("mail sent and forgotten");
            }
            Ok(()) => {
                self.mark_sent(row.id).await?;
                tracing::info!("mail sent");
            }
            Err(error) => {
                let delay = retry_delay(self.retry_base, row.attempts);
                mark_failed(&self.db, row.id, &error, now_unix() + delay).await?;
                if row.attempts >= MAX_ATTEMPTS {
                    tracing::error!(%error, "mail not sent; giving up after the last attempt");
                } else {
                    tracing::warn!(%error, retry_in_secs = delay, "mail not sent; will retry");
                }
            }
        }
        Ok(())
    }

    async fn send(&self, row: &Claimed) -> Result<(), String> {
        let to: Mailbox = row
            .recipient
            .parse()
            .map_err(|e| format!("recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&row.subject)
            // Fixed per row, so a mail that goes out twice is recognisable as one.
            .message_id(Some(format!(
                "<{}@{}>",
                row.message_id,
                self.from.email.domain()
            )))
            .multipart(MultiPart::alternative_plain_html(
                row.text_body.clone(),
                row.html_body.clone(),
            ))
            .map_err(|e| format!("message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|e| format!("SMTP: {e}"))
    }

    /// Retried a little, because a sent mail whose mark is lost is sent again when its lease ends.
    async fn mark_sent(&self, id: i64) -> AppResult<()> {
        let mut tries = 0;
        loop {
            tries += 1;
            let marked = sqlx::query(
                "UPDATE outbox SET sent_at = $1, lease_until = NULL, last_error = NULL \
                 WHERE id = $2 AND sent_at IS NULL",
            )
            .bind(now_unix())
            .bind(id)
            .execute(&self.db.pool)
            .await;
            match marked {
                Ok(_) => return Ok(()),
                Err(error) if tries >= MARK_SENT_TRIES => {
                    tracing::error!(%error, "mail sent but not marked; it is sent again when its lease ends");
                    return Err(error.into());
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }
}

/// Takes the oldest due row: unsent, due, not leased (or its lease ran out), attempts left. The
/// outer WHERE repeats the lease test, which is what makes a concurrent claim of the same row find
/// nothing (see the module comment).
async fn claim(db: &Database, now: i64) -> AppResult<Option<Claimed>> {
    Ok(sqlx::query_as::<_, Claimed>(
        "UPDATE outbox SET lease_until = $1, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $2 \
                       AND (lease_until IS NULL OR lease_until < $2) AND attempts < $3 \
                     ORDER BY id LIMIT 1) \
           AND sent_at IS NULL AND (lease_until IS NULL OR lease_until < $2) AND attempts < $3 \
         RETURNING id, kind, recipient, subject, text_body, html_body, message_id, attempts",
    )
    .bind(now + LEASE_SECS)
    .bind(now)
    .bind(MAX_ATTEMPTS)
    .fetch_optional(&db.pool)
    .await?)
}

async fn forget(db: &Database, id: i64) -> AppResult<()> {
    sqlx::query("DELETE FROM outbox WHERE id = $1")
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

async fn mark_failed(db: &Database, id: i64, error: &str, next_attempt_at: i64) -> AppResult<()> {
    let error: String = error.chars().take(500).collect();
    sqlx::query(
        "UPDATE outbox SET last_error = $1, lease_until = NULL, next_attempt_at = $2 \
         WHERE id = $3 AND sent_at IS NULL",
    )
    .bind(error)
    .bind(next_attempt_at)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Seconds until the next attempt after `attempts` failed ones: `base` doubling, capped, rounded up
/// to whole seconds (the outbox's clock), at least one.
fn retry_delay(base: Duration, attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let delay = base
        .saturating_mul(2_u32.saturating_pow(doublings))
        .min(MAX_RETRY_DELAY);
    i64::try_from(delay.as_millis().div_ceil(1000)).map_or(1, |secs| secs.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_ten_minutes() {
        let base = Duration::from_secs(5);
        let delays: Vec<i64> = (1..=9).map(|n| retry_delay(base, n)).collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 320, 600, 600]);
        assert_eq!(retry_delay(base, MAX_ATTEMPTS), 600);
        assert_eq!(retry_delay(base, i64::MAX), 600);
        // Below a second (tests): whole seconds, at least one.
        let quick = Duration::from_millis(200);
        let quick_delays: Vec<i64> = (1..=5).map(|n| retry_delay(quick, n)).collect();
        assert_eq!(quick_delays, [1, 1, 1, 2, 4]);
    }
}
