//! Customers: create, retrieve, update, delete, list by e-mail, and the search query language
//! subset (`email:'x'`, `metadata['k']:'v'`, `name~'x'`, joined by AND/OR).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use serde_json::json;

use super::{
    body_params, delete_params, list_page, list_query, merge_metadata, nullable, one, query_params,
    retrieve_one, update_one,
};
use crate::billing::customers::{create_customer, delete_customer};
use crate::error::ApiError;
use crate::http::ApiResult;
use crate::model::Customer;
use crate::render;
use crate::shared::Shared;
use crate::store::Store;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/customers", get(list).post(create))
        .route("/customers/search", get(search))
        .route("/customers/{id}", get(retrieve).post(update).delete(remove))
}

const COMMON: [&str; 7] = [
    "email",
    "name",
    "phone",
    "description",
    "metadata",
    "expand",
    "invoice_settings",
];

async fn create(State(sim): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let params = body_params(&body)?;
    let mut allowed = COMMON.to_vec();
    allowed.extend(["payment_method", "address", "preferred_locales"]);
    params.allow(&allowed)?;
    let metadata = params.metadata("metadata")?.unwrap_or_default();
    let text = |key: &str| params.str(key).filter(|s| !s.is_empty()).map(str::to_owned);
    sim.with(|store| {
        let id = create_customer(store, text("email"), text("name"), metadata);
        if let Some(c) = store.customer_mut(&id) {
            c.phone = params.str("phone").map(str::to_owned);
            c.description = params.str("description").map(str::to_owned);
        }
        // The created event already went out; refresh its snapshot with the extra fields.
        let object = store
            .customer(&id)
            .map(render::customer)
            .unwrap_or_default();
        if let Some(e) = store
            .events
            .iter_mut()
            .rev()
            .find(|e| e.kind == "customer.created" && e.object["id"] == id)
        {
            e.object = object.clone();
        }
        one(store, &params, object)
    })
}

async fn retrieve(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    // A deleted customer still answers 200, as a `{"deleted": true}` stub (Stripe does this).
    retrieve_one(&sim, &query, "customer", &id, "id", |store| {
        store.customer(&id).map(render::customer).or_else(|| {
            store
                .customer_deleted(&id)
                .then(|| render::deleted_customer(&id))
        })
    })
}

async fn remove(
    State(sim): State<Arc<Shared>>,
    Path(id): Path<String>,
    query: RawQuery,
    body: Bytes,
) -> ApiResult {
    let params = delete_params(&query, &body)?;
    // Stripe's delete takes no parameters; rejecting them keeps typos from passing silently.
    params.allow(&[])?;
    sim.with(|store| delete_customer(store, &id).map(axum::Json))
}

async fn update(State(sim): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let params = body_params(&body)?;
    params.allow(&COMMON)?;
    let metadata = params.metadata("metadata")?;
    let default_pm = match params.child("invoice_settings")? {
        Some(settings) => {
            settings.allow(&["default_payment_method"])?;
            settings.str("default_payment_method").map(str::to_owned)
        }
        None => None,
    };
    let current = |store: &Store| store.customer(&id).map(render::customer);
    update_one(&sim, &params, "customer", &id, current, |store| {
        if let Some(pm) = default_pm.as_deref().filter(|s| !s.is_empty())
            && store.payment_method(pm).is_none()
        {
            return Err(ApiError::missing_resource(
                "payment_method",
                pm,
                "invoice_settings[default_payment_method]",
            ));
        }
        let Some(c) = store.customer_mut(&id) else {
            return Err(ApiError::missing_resource("customer", &id, "id"));
        };
        if let Some(v) = nullable(&params, "email") {
            c.email = v;
        }
        if let Some(v) = nullable(&params, "name") {
            c.name = v;
        }
        if let Some(v) = nullable(&params, "phone") {
            c.phone = v;
        }
        if let Some(v) = nullable(&params, "description") {
            c.description = v;
        }
        if let Some(pm) = default_pm {
            c.default_payment_method = (!pm.is_empty()).then_some(pm);
        }
        merge_metadata(&mut c.metadata, metadata);
        Ok(())
    })
}

async fn list(State(sim): State<Arc<Shared>>, query: RawQuery) -> ApiResult {
    let params = list_query(&query, &["email", "created", "test_clock"])?;
    list_page(&sim, &params, "/v1/customers", |store| {
        Ok(store
            .customers
            .iter()
            .rev()
            // Stripe's email filter is case-sensitive.
            .filter(|c| {
                params
                    .str("email")
                    .is_none_or(|e| c.email.as_deref() == Some(e))
            })
            .map(render::customer)
            .collect())
    })
}

#[derive(Debug, PartialEq)]
enum Cond {
    Eq(String, String),
    Contains(String, String),
}

fn parse_value(s: &str) -> Option<String> {
    let s = s.trim();
    let quote = s.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    s.strip_prefix(quote)?
        .strip_suffix(quote)
        .map(str::to_owned)
}

fn parse_clause(c: &str) -> Result<Cond, String> {
    let (field, op, value) = match (c.find(':'), c.find('~')) {
        (Some(i), Some(j)) if j < i => (&c[..j], '~', &c[j + 1..]),
        (Some(i), _) => (&c[..i], ':', &c[i + 1..]),
        (None, Some(j)) => (&c[..j], '~', &c[j + 1..]),
        (None, None) => return Err(format!("missing ':' in clause `{c}`")),
    };
    let field = field.trim();
    let field = if let Some(rest) = field.strip_prefix("metadata[") {
        let key = rest
            .strip_suffix(']')
            .and_then(parse_value)
            .ok_or(format!("bad metadata key in `{c}`"))?;
        format!("metadata.{key}")
    } else if matches!(field, "email" | "name" | "phone" | "created") {
        field.to_owned()
    } else {
        return Err(format!(
            "Field `{field}` is an unsupported search field for resource `customers`."
        ));
    };
    let value = parse_value(value).ok_or(format!("value in `{c}` must be quoted"))?;
    Ok(if op == '~' {
        Cond::Contains(field, value)
    } else {
        Cond::Eq(field, value)
    })
}

fn field<'a>(c: &'a Customer, f: &str) -> Option<&'a str> {
    match f {
        "email" => c.email.as_deref(),
        "name" => c.name.as_deref(),
        "phone" => c.phone.as_deref(),
        _ => f
            .strip_prefix("metadata.")
            .and_then(|k| c.metadata.get(k))
            .map(String::as_str),
    }
}

/// Matches `query` against a customer. `AND` binds clauses; `OR` separates alternatives
/// (Stripe forbids mixing them; so does the sim).
fn matcher(query: &str) -> Result<impl Fn(&Customer) -> bool, String> {
    let has_and = query.contains(" AND ");
    let has_or = query.contains(" OR ");
    if has_and && has_or {
        return Err("Search queries cannot mix AND and OR.".to_owned());
    }
    let sep = if has_or { " OR " } else { " AND " };
    let conds = query
        .split(sep)
        .map(parse_clause)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(move |c: &Customer| {
        let test = |cond: &Cond| match cond {
            Cond::Eq(f, v) => field(c, f) == Some(v.as_str()),
            Cond::Contains(f, v) => {
                field(c, f).is_some_and(|x| x.to_lowercase().contains(&v.to_lowercase()))
            }
        };
        if has_or {
            conds.iter().any(test)
        } else {
            conds.iter().all(test)
        }
    })
}

fn search_in(store: &Store, query: &str, limit: usize) -> Result<serde_json::Value, ApiError> {
    let m = matcher(query).map_err(|e| ApiError::invalid("query", e))?;
    let all: Vec<_> = store
        .customers
        .iter()
        .rev()
        .filter(|c| m(c))
        .map(render::customer)
        .collect();
    let has_more = all.len() > limit;
    Ok(json!({
        "object": "search_result",
        "data": all.into_iter().take(limit).collect::<Vec<_>>(),
        "has_more": has_more,
        "next_page": null,
        "total_count": null,
        "url": "/v1/customers/search",
    }))
}

async fn search(State(sim): State<Arc<Shared>>, query: RawQuery) -> ApiResult {
    let params = query_params(&query)?;
    params.allow(&["query", "limit", "page", "expand"])?;
    let search = params.req_str("query")?.to_owned();
    let limit = usize::try_from(params.i64("limit")?.unwrap_or(10).clamp(1, 100)).unwrap_or(10);
    sim.read(|store| {
        let result = search_in(store, &search, limit)?;
        one(store, &params, result)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_search_clauses() {
        assert_eq!(
            parse_clause("metadata['user_id']:'42'"),
            Ok(Cond::Eq("metadata.user_id".into(), "42".into()))
        );
        assert_eq!(
            parse_clause("email:\"a@b.c\""),
            Ok(Cond::Eq("email".into(), "a@b.c".into()))
        );
        assert_eq!(
            parse_clause("name~'ann'"),
            Ok(Cond::Contains("name".into(), "ann".into()))
        );
        assert!(parse_clause("balance:'1'").is_err());
        assert!(parse_clause("email:x").is_err());
        assert!(matcher("email:'a' AND name:'b' OR name:'c'").is_err());
    }
}
