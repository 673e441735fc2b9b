//! Subscriptions (retrieve, list, update, cancel) and invoices (retrieve, list, lines).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;

use super::{body, list_page, list_query, merge_metadata, nullable, one, query, retrieve_one};
use crate::Shared;
use crate::billing::subscriptions::{
    cancel_now, change_price, emit_updated, set_cancel_at_period_end,
};
use crate::form::Params;
use crate::http::{ApiError, ApiResult};
use crate::objects::billing as render;
use crate::state::{State as SimState, SubStatus};

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/subscriptions", get(list))
        .route(
            "/subscriptions/{id}",
            get(retrieve).post(update).delete(cancel),
        )
        .route("/invoices", get(list_invoices))
        .route("/invoices/{id}", get(retrieve_invoice))
        .route("/invoices/{id}/lines", get(invoice_lines))
}

fn missing(id: &str) -> ApiError {
    ApiError::missing_resource("subscription", id, "id")
}

async fn retrieve(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    q: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &q, "subscription", &id, "id", |st| {
        st.subscription(&id).map(|s| render::subscription(st, s))
    })
}

async fn list(State(sim): State<Arc<Shared>>, q: RawQuery) -> ApiResult {
    let p = list_query(
        &q,
        &[
            "customer",
            "price",
            "status",
            "created",
            "current_period_end",
            "current_period_start",
            "collection_method",
            "test_clock",
        ],
    )?;
    let status = p.str("status").unwrap_or("");
    let wanted: Box<dyn Fn(SubStatus) -> bool> = match status {
        "" => Box::new(SubStatus::is_live),
        "all" => Box::new(|_| true),
        "ended" => Box::new(|s| !s.is_live()),
        other => match SubStatus::parse(other) {
            Some(want) => Box::new(move |s| s == want),
            None if other == "paused" => Box::new(|_| false),
            None => {
                return Err(ApiError::invalid(
                    "status",
                    format!("Invalid status: {other}"),
                ));
            }
        },
    };
    list_page(&sim, &p, "/v1/subscriptions", |st| {
        Ok(st
            .subscriptions
            .iter()
            .rev()
            .filter(|s| wanted(s.status))
            .filter(|s| p.str("customer").is_none_or(|c| s.customer == c))
            .filter(|s| {
                p.str("price")
                    .is_none_or(|pr| s.items.iter().any(|i| i.price == pr))
            })
            .map(|s| render::subscription(st, s))
            .collect())
    })
}

fn apply_update(st: &mut SimState, id: &str, p: &Params) -> Result<(), ApiError> {
    let sub = st.subscription(id).cloned().ok_or_else(|| missing(id))?;
    let behavior = p.str("proration_behavior").unwrap_or("create_prorations");
    if !matches!(behavior, "create_prorations" | "always_invoice" | "none") {
        return Err(ApiError::invalid(
            "proration_behavior",
            format!("Invalid proration_behavior: {behavior}"),
        ));
    }
    // Parse everything before changing anything, so a bad parameter changes nothing.
    let cancel_flag = p.bool("cancel_at_period_end")?;
    let cancel_at = match p.str("cancel_at") {
        Some("") => Some(None),
        Some(_) => Some(p.i64("cancel_at")?),
        None => None,
    };
    let metadata = p.metadata("metadata")?;
    let items = p.list("items")?;
    let touches_billing = !items.is_empty() || p.has("cancel_at_period_end") || p.has("cancel_at");
    if !sub.status.is_live() && touches_billing {
        return Err(ApiError::state(
            "A canceled subscription can only update its cancellation_details and metadata."
                .to_owned(),
        ));
    }
    if items.len() > 1 {
        return Err(ApiError::invalid(
            "items",
            "The sim supports one subscription item.".to_owned(),
        ));
    }
    if let Some(it) = items.first() {
        it.allow(&["id", "price", "quantity", "metadata"])?;
        let quantity = it.i64("quantity")?;
        if quantity.is_some_and(|q| q < 1) {
            return Err(ApiError::invalid(
                &it.name("quantity"),
                "Quantity must be at least 1.".to_owned(),
            ));
        }
        let current = it
            .str("id")
            .and_then(|si| sub.items.iter().find(|i| i.id == si))
            .or(sub.items.first())
            .map(|i| i.price.clone())
            .unwrap_or_default();
        let price = it.str("price").map_or(current, str::to_owned);
        change_price(st, id, it.str("id"), &price, quantity, behavior)?;
    }
    if let Some(flag) = cancel_flag {
        set_cancel_at_period_end(st, id, flag);
    }
    let before = st
        .subscription(id)
        .map(|s| render::subscription(st, s))
        .unwrap_or_default();
    let now = st.now;
    if let Some(s) = st.subscription_mut(id) {
        if let Some(at) = cancel_at {
            s.cancel_at = at;
            s.canceled_at = at.map(|_| now);
        }
        if let Some(d) = nullable(p, "description") {
            s.description = d;
        }
        if let Some(pm) = nullable(p, "default_payment_method") {
            s.default_payment_method = pm;
        }
        merge_metadata(&mut s.metadata, metadata);
    }
    emit_updated(st, id, &before);
    Ok(())
}

async fn update(State(sim): State<Arc<Shared>>, Path(id): Path<String>, b: Bytes) -> ApiResult {
    let p = body(&b)?;
    p.allow(&[
        "items",
        "cancel_at_period_end",
        "cancel_at",
        "proration_behavior",
        "payment_behavior",
        "metadata",
        "description",
        "default_payment_method",
        "cancellation_details",
        "expand",
    ])?;
    if let Some(pm) = p.str("default_payment_method").filter(|s| !s.is_empty())
        && sim.read(|st| st.payment_method(pm).is_none())
    {
        return Err(ApiError::missing_resource(
            "payment_method",
            pm,
            "default_payment_method",
        ));
    }
    sim.with(|st| {
        apply_update(st, &id, &p)?;
        let v = st
            .subscription(&id)
            .map(|s| render::subscription(st, s))
            .unwrap_or_default();
        one(st, &p, v)
    })
}

async fn cancel(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    q: RawQuery,
    b: Bytes,
) -> ApiResult {
    // async-stripe sends DELETE parameters as a form body; curl users often use the query.
    let p = if b.is_empty() { query(&q)? } else { body(&b)? };
    p.allow(&["invoice_now", "prorate", "cancellation_details", "expand"])?;
    sim.with(|st| {
        let status = st
            .subscription(&id)
            .map(|s| s.status)
            .ok_or_else(|| missing(&id))?;
        if !status.is_live() {
            return Err(ApiError::state(format!(
                "This subscription is already {}.",
                status.as_str()
            )));
        }
        cancel_now(st, &id, Some("cancellation_requested"));
        let v = st
            .subscription(&id)
            .map(|s| render::subscription(st, s))
            .unwrap_or_default();
        one(st, &p, v)
    })
}

async fn retrieve_invoice(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    q: RawQuery,
) -> ApiResult {
    retrieve_one(&sim, &q, "invoice", &id, "invoice", |st| {
        st.invoice(&id).map(|i| render::invoice(st, i))
    })
}

async fn list_invoices(State(sim): State<Arc<Shared>>, q: RawQuery) -> ApiResult {
    let p = list_query(
        &q,
        &[
            "customer",
            "subscription",
            "status",
            "collection_method",
            "created",
            "due_date",
        ],
    )?;
    list_page(&sim, &p, "/v1/invoices", |st| {
        Ok(st
            .invoices
            .iter()
            .rev()
            .filter(|i| p.str("customer").is_none_or(|c| i.customer == c))
            .filter(|i| {
                p.str("subscription")
                    .is_none_or(|s| i.subscription.as_deref() == Some(s))
            })
            .filter(|i| p.str("status").is_none_or(|s| i.status.as_str() == s))
            .map(|i| render::invoice(st, i))
            .collect())
    })
}

async fn invoice_lines(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    q: RawQuery,
) -> ApiResult {
    let p = list_query(&q, &[])?;
    let url = format!("/v1/invoices/{id}/lines");
    list_page(&sim, &p, &url, |st| {
        let inv = st
            .invoice(&id)
            .ok_or_else(|| ApiError::missing_resource("invoice", &id, "invoice"))?;
        Ok(render::invoice_lines(st, inv))
    })
}
