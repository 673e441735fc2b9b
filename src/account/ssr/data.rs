//! The owner's data: exported as one file, or erased (issue 21). The one place that knows every
//! table holding a user's data; `tests/app/accounts/erasure.rs` lists every table of the schema and
//! fails on one this file does not account for.
//!
//! Erasure keeps orders and invoices (the bookkeeping law wants them for years) with the buyer
//! removed: no user, no cart, no links to Stripe's receipt and invoice pages (they show the
//! customer's name and address). Everything else goes: the user row with its address and password
//! hash, subscriptions, Checkout records, links, sessions (their carts with them) and every mail to
//! the address, sent or not. At Stripe, live subscriptions end now and the customer is deleted.

use super::{AccountServices, reauthenticate, services};
use crate::account::{
    DataExport, ExportedAccount, ExportedInvoice, ExportedLine, ExportedMail, ExportedOrder,
    ExportedSession,
};
use crate::auth::ssr::UserSession;
use crate::auth::{User, session_user};
use crate::db::{Database, now_unix};
use crate::domain::UserId;
use crate::error::{AppError, AppResult};
use crate::mail::{self, templates};
use crate::request::see_other;
use crate::state::from_context;

#[tracing::instrument(skip_all)]
pub async fn export(db: &Database, user: &User) -> AppResult<DataExport> {
    let id = user.id;
    let account = sqlx::query_as::<_, ExportedAccount>(
        "SELECT email, email_verified_at, role, created_at, stripe_customer_id FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(AppError::Unauthenticated)?;
    let mut orders = all::<ExportedOrder>(
        db,
        "SELECT id, status, currency, total, amount_refunded, created_at, paid_at FROM orders \
         WHERE user_id = $1 ORDER BY id",
        id,
    )
    .await?;
    let lines = all::<ExportedLine>(
        db,
        "SELECT i.order_id, i.name, i.quantity, i.unit_amount FROM order_items i \
         JOIN orders o ON o.id = i.order_id WHERE o.user_id = $1 ORDER BY i.order_id, i.name",
        id,
    )
    .await?;
    for order in &mut orders {
        order.lines = lines
            .iter()
            .filter(|line| line.order_id == order.id)
            .cloned()
            .collect();
    }
    let mails = sqlx::query_as::<_, ExportedMail>(
        "SELECT subject, kind, created_at AS queued_at, sent_at FROM outbox WHERE recipient = $1 \
         ORDER BY id",
    )
    .bind(&account.email)
    .fetch_all(&db.pool)
    .await?;
    Ok(DataExport {
        exported_at: now_unix(),
        subscriptions: all(
            db,
            "SELECT id, status, price_id, created, current_period_end, canceled_at \
             FROM subscriptions WHERE user_id = $1 ORDER BY created",
            id,
        )
        .await?,
        invoices: all::<ExportedInvoice>(
            db,
            "SELECT id, status, currency, amount_due, amount_paid, created FROM invoices \
             WHERE user_id = $1 ORDER BY created",
            id,
        )
        .await?,
        sessions: all::<ExportedSession>(
            db,
            "SELECT agent, signed_in_at, seen_at FROM user_sessions WHERE user_id = $1 \
             ORDER BY signed_in_at",
            id,
        )
        .await?,
        account,
        orders,
        mails,
    })
}

async fn all<T>(db: &Database, sql: &str, user_id: UserId) -> AppResult<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    Ok(sqlx::query_as::<_, T>(sql)
        .bind(user_id)
        .fetch_all(&db.pool)
        .await?)
}

/// `GET /account/my-data.json`: the signed-in user's export, as a file to save. A visitor is sent to
/// sign in first.
pub async fn download(
    axum::extract::State(db): axum::extract::State<Database>,
    request: axum::extract::Request,
) -> Result<axum::response::Response, AppError> {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let Some(user) = request.extensions().get::<User>().cloned() else {
        let login = crate::request::login_path("/account");
        return Ok(axum::response::Redirect::to(&login).into_response());
    };
    let export = export(&db, &user).await?;
    let body = serde_json::to_vec_pretty(&export)
        .map_err(|e| AppError::Internal(format!("export not encoded: {e}")))?;
    tracing::info!(user_id = %user.id, "data exported");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"storefront-my-data.json\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// Deletes the account: Stripe first (once our rows are gone nothing would say those objects are
/// the user's), then every session, then the rows in one transaction with the goodbye mail.
#[tracing::instrument(skip_all)]
pub async fn delete_account(current_password: String) -> AppResult<()> {
    let Some(user) = session_user("/account")? else {
        return Ok(());
    };
    let (db, auth) = services()?;
    let account = from_context::<AccountServices>()?;
    reauthenticate(&db, &auth, &user, current_password).await?;
    account.shop.end_open_orders_before_erasure(user.id).await?;
    let cancelled = account.billing.cancel_subscriptions_now(user.id).await?;
    account.customers.delete_at_stripe(user.id).await?;
    let sessions = auth.sessions.end_sessions_of(user.id, None).await?;
    erase_rows(&db, &user).await?;
    auth.cache.forget_user(user.id);
    UserSession::of_request().await?.end().await?;
    tracing::info!(user_id = %user.id, cancelled, sessions, "account erased");
    see_other("/account/deleted");
    Ok(())
}

async fn erase_rows(db: &Database, user: &User) -> AppResult<()> {
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "UPDATE orders SET user_id = NULL, cart_key = 'erased', cart_id = NULL, checkout_url = NULL, \
             receipt_url = NULL WHERE user_id = $1",
    )
    .bind(user.id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE invoices SET user_id = NULL, hosted_invoice_url = NULL WHERE user_id = $1")
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM outbox WHERE recipient = $1")
        .bind(user.email.as_str())
        .execute(&mut *tx)
        .await?;
    // Subscriptions, Checkout records, links and session rows go with it (ON DELETE CASCADE).
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    let goodbye = templates::AccountDeleted {
        to: user.email.clone(),
        user_id: user.id.get(),
    };
    mail::enqueue(&mut tx, &templates::account_deleted(goodbye)).await?;
    tx.commit().await?;
    Ok(())
}
