//! E-mail through an outbox (server only). A feature that causes a mail builds it with a template
//! (`templates`) and calls `enqueue` inside the transaction of the change that causes it, so the mail
//! exists if and only if the change was committed. The worker (`worker`) on every instance claims
//! due rows with a lease and sends them over SMTP, retrying with backoff.
//!
//! At most one row per occasion: `dedupe_key` (`receipt:order:42`) is unique, and a second enqueue
//! for it is a no-op. See docs/ARCHITECTURE.md ("Mail") for what is and is not guaranteed.

pub mod templates;
mod worker;

pub use worker::MailWorker;

use crate::db::now_unix;
use crate::domain::Email;
use crate::error::AppResult;
use sqlx::{Any, Transaction};

/// Why a mail is sent; stored in `outbox.kind` and logged (the body never is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    OrderReceipt,
    Welcome,
    PaymentFailed,
    TrialEnding,
    VerifyEmail,
    PasswordReset,
    /// Someone signed up with an address that has an account: its owner is told, nobody else.
    AccountExists,
    EmailChanged,
    PasswordChanged,
    AccountDeleted,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::OrderReceipt => "order_receipt",
            MailKind::Welcome => "welcome",
            MailKind::PaymentFailed => "payment_failed",
            MailKind::TrialEnding => "trial_ending",
            MailKind::VerifyEmail => "verify_email",
            MailKind::PasswordReset => "password_reset",
            MailKind::AccountExists => "account_exists",
            MailKind::EmailChanged => "email_changed",
            MailKind::PasswordChanged => "password_changed",
            MailKind::AccountDeleted => "account_deleted",
        }
    }
}

/// One mail, ready to send: a plain-text and an HTML part of the same content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub kind: MailKind,
    /// Names the occasion, e.g. `receipt:order:42`: the outbox holds at most one mail per key.
    pub dedupe_key: String,
    pub to: Email,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Queues `mail` in `tx`, the transaction of the change that causes it (a rollback drops the mail
/// too). Returns false when a mail with the same `dedupe_key` was queued before: nothing is added.
#[tracing::instrument(skip_all, fields(kind = mail.kind.as_str()))]
pub async fn enqueue(tx: &mut Transaction<'_, Any>, mail: &Mail) -> AppResult<bool> {
    let now = now_unix();
    // The Message-ID's unique part is fixed now, so that every attempt sends the same Message-ID.
    let message_id = uuid::Uuid::new_v4().simple().to_string();
    let inserted = sqlx::query(
        "INSERT INTO outbox (kind, dedupe_key, recipient, subject, text_body, html_body, message_id, \
             next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(mail.kind.as_str())
    .bind(&mail.dedupe_key)
    .bind(mail.to.as_str())
    .bind(&mail.subject)
    .bind(&mail.text)
    .bind(&mail.html)
    .bind(message_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let added = inserted.rows_affected() == 1;
    tracing::debug!(added, "mail queued");
    Ok(added)
}
