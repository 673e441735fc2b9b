//! Billing's mails: welcome, payment failed, trial ending. Each is queued (`mail::enqueue`) in the
//! transaction of the sync that writes the state it tells of, so a sync that rolls back (a lost
//! generation race, an error) queues nothing, and its dedupe key sends each at most once however
//! often a state is written again.

use crate::domain::{Email, EventId, Money, UserId};
use crate::error::AppResult;
use crate::mail::{enqueue, templates};
use crate::stripe_gateway::{CustomerBilling, InvoiceRecord, VerifiedEvent};
use sqlx::{Any, Transaction};

const TRIAL_WILL_END: &str = "customer.subscription.trial_will_end";

/// What the notices need besides the sync's data.
pub(super) struct NoticeLinks {
    /// The dashboard: plan, invoices, and "Manage billing" (the portal, to update the card).
    pub dashboard_url: String,
}

impl super::Billing {
    pub(super) fn notice_links(&self) -> NoticeLinks {
        NoticeLinks {
            dashboard_url: self.config.url("/dashboard"),
        }
    }
}

/// Whether the user had a paid subscription invoice before this sync, with its subscription stored:
/// read before the sync writes, so the first paid one is recognised as first. (A read of Stripe can
/// catch a new invoice already paid but not yet its subscription; such an invoice does not count
/// until a later sync has both, and that sync welcomes.)
pub(super) async fn had_paid_invoice(
    tx: &mut Transaction<'_, Any>,
    user_id: UserId,
) -> AppResult<bool> {
    let count = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id \
         WHERE i.user_id = $1 AND i.status = 'paid'",
    )
    .bind(user_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(count > 0)
}

/// Welcome for the user's first paid subscription invoice (a trial's $0 one counts: the
/// subscription started), and a notice for every invoice left open after a failed charge.
pub(super) async fn queue_invoice_notices(
    tx: &mut Transaction<'_, Any>,
    user_id: UserId,
    billing: &CustomerBilling,
    had_paid_before: bool,
    links: &NoticeLinks,
) -> AppResult<()> {
    let first_paid = billing
        .invoices
        .iter()
        .filter(|i| i.status == "paid" && i.subscription_id.is_some())
        .min_by_key(|i| (i.created, i.id.as_str()))
        .filter(|_| !had_paid_before);
    let failed: Vec<&InvoiceRecord> = billing
        .invoices
        .iter()
        .filter(|i| i.status == "open" && i.attempt_count > 0)
        .collect();
    if first_paid.is_none() && failed.is_empty() {
        return Ok(());
    }
    let Some(to) = user_email(tx, user_id).await? else {
        return Ok(());
    };
    // Without its subscription in this read, the plan is unknown: a later sync welcomes instead.
    if let Some(invoice) = first_paid
        && let Some(plan_name) = plan_of(tx, invoice).await?
    {
        let mail = templates::welcome(templates::Welcome {
            to: to.clone(),
            plan_name,
            amount_paid: Money::new(invoice.amount_paid, invoice.currency.as_str()),
            invoice_id: invoice.id.clone(),
            invoice_url: invoice.hosted_invoice_url.clone(),
            dashboard_url: links.dashboard_url.clone(),
        });
        enqueue(tx, &mail).await?;
    }
    for invoice in failed {
        let mail = templates::payment_failed(templates::PaymentFailed {
            to: to.clone(),
            plan_name: plan_of(tx, invoice).await?,
            amount_due: Money::new(invoice.amount_due, invoice.currency.as_str()),
            invoice_id: invoice.id.clone(),
            update_card_url: links.dashboard_url.clone(),
        });
        enqueue(tx, &mail).await?;
    }
    Ok(())
}

/// For each `customer.subscription.trial_will_end` applied now (not a duplicate), a notice about
/// the subscription as stored after the sync: still trialing, with its plan and trial end.
pub(super) async fn queue_event_notices(
    tx: &mut Transaction<'_, Any>,
    events: &[&VerifiedEvent],
    duplicates: &[EventId],
    links: &NoticeLinks,
) -> AppResult<()> {
    let trials = events
        .iter()
        .filter(|e| e.event_type == TRIAL_WILL_END && !duplicates.contains(&e.id))
        .filter_map(|e| e.object_id.as_deref());
    for subscription_id in trials {
        let Some((trial_end, to, plan_name)) = trialing(tx, subscription_id).await? else {
            tracing::info!(
                subscription_id,
                "trial_will_end for a subscription not trialing here"
            );
            continue;
        };
        let mail = templates::trial_ending(templates::TrialEnding {
            to,
            plan_name: plan_name.unwrap_or_else(|| "your plan".to_owned()),
            trial_end,
            subscription_id: subscription_id.to_owned(),
            dashboard_url: links.dashboard_url.clone(),
        });
        enqueue(tx, &mail).await?;
    }
    Ok(())
}

/// A stored subscription that is trialing: its trial end, its user's e-mail and its plan's name.
async fn trialing(
    tx: &mut Transaction<'_, Any>,
    subscription_id: &str,
) -> AppResult<Option<(i64, Email, Option<String>)>> {
    let row = sqlx::query_as::<_, (i64, String, Option<String>)>(
        "SELECT s.trial_end, u.email, p.name FROM subscriptions s \
         JOIN users u ON u.id = s.user_id \
         LEFT JOIN prices pr ON pr.id = s.price_id \
         LEFT JOIN products p ON p.id = pr.product_id \
         WHERE s.id = $1 AND s.status = 'trialing' AND s.trial_end IS NOT NULL",
    )
    .bind(subscription_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.and_then(|(trial_end, email, plan)| {
        Email::parse(&email)
            .ok()
            .map(|email| (trial_end, email, plan))
    }))
}

async fn user_email(tx: &mut Transaction<'_, Any>, user_id: UserId) -> AppResult<Option<Email>> {
    let email = sqlx::query_scalar::<_, String>("SELECT email FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?;
    // Stored addresses were parsed on the way in; one that is not valid gets no mail.
    Ok(email.and_then(|e| Email::parse(&e).ok()))
}

/// The plan of the invoice's subscription as stored (after this sync's writes): the name of the
/// product of its price. None when the subscription is not stored (see `queue_invoice_notices`).
async fn plan_of(
    tx: &mut Transaction<'_, Any>,
    invoice: &InvoiceRecord,
) -> AppResult<Option<String>> {
    let Some(subscription_id) = &invoice.subscription_id else {
        return Ok(None);
    };
    // The subscription must be stored; its product may not be yet (a catalog copy still under way),
    // and the welcome is not worth losing for a name.
    let stored = sqlx::query_scalar::<_, Option<String>>(
        "SELECT p.name FROM subscriptions s LEFT JOIN prices pr ON pr.id = s.price_id \
         LEFT JOIN products p ON p.id = pr.product_id WHERE s.id = $1",
    )
    .bind(subscription_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(stored.map(|name| name.unwrap_or_else(|| "your plan".to_owned())))
}
