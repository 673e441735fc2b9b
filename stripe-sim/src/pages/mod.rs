//! Server-rendered hosted pages (Checkout, Billing Portal, invoices, receipts): plain HTML forms and
//! CSS, no JavaScript, so they work in any browser and from tests with plain HTTP posts.

mod checkout;
mod checkout_shipping;
mod invoice;
mod portal;
mod receipt;
mod three_ds;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::money::money;
use crate::shared::Shared;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .merge(checkout::routes())
        .merge(portal::routes())
        .merge(invoice::routes())
        .merge(receipt::routes())
        .merge(three_ds::routes())
}

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// "per month", "every 3 months".
fn per(interval: &str, count: i64) -> String {
    if count == 1 {
        format!("per {interval}")
    } else {
        format!("every {count} {interval}s")
    }
}

const CSS: &str = r#"
*{box-sizing:border-box}body{margin:0;font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1a1f36;background:#f6f9fc}
.banner{background:#fff4d6;border-bottom:1px solid #f0d28a;color:#7a5200;text-align:center;padding:8px 12px;font-weight:600;font-size:14px}
fieldset{border:0;padding:0;margin:0 0 16px;min-width:0}legend{font-weight:600;margin-bottom:4px}.choice{display:flex;gap:8px;align-items:center;font-weight:400;margin:6px 0}
.wrap{max-width:960px;margin:0 auto;padding:32px 20px;display:grid;grid-template-columns:1fr 1fr;gap:48px}
.wrap.single{grid-template-columns:1fr;max-width:720px}
@media(max-width:760px){.wrap{grid-template-columns:1fr;gap:24px}}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 8px}
.muted{color:#6b7385}.amount{font-size:36px;font-weight:700;margin:8px 0}.amount small{font-size:15px;font-weight:400;color:#6b7385}
.card{background:#fff;border-radius:8px;box-shadow:0 2px 5px rgba(50,50,93,.1),0 1px 2px rgba(0,0,0,.08);padding:24px;margin-bottom:16px}
label{display:block;font-size:13px;font-weight:600;color:#3c4257;margin:14px 0 6px}
input[type=text],input[type=email]{width:100%;padding:10px 12px;border:1px solid #d5dbe1;border-radius:6px;font-size:15px;background:#fff}
input:focus{outline:2px solid #635bff55;border-color:#635bff}
.row{display:grid;grid-template-columns:1fr 1fr;gap:12px}
button,.button{display:inline-block;width:100%;margin-top:20px;padding:12px;border:0;border-radius:6px;background:#635bff;color:#fff;font-size:16px;font-weight:600;cursor:pointer;text-align:center;text-decoration:none}
button.secondary,.button.secondary{background:#fff;color:#3c4257;border:1px solid #d5dbe1}
button.danger{background:#df1b41}button.small{width:auto;padding:8px 14px;font-size:14px;margin-top:8px}
.error{background:#fde8ec;color:#a3122f;border:1px solid #f5b5c2;border-radius:6px;padding:10px 12px;margin:12px 0}
.flash{background:#e6f6ee;color:#0b6b3a;border:1px solid #a8e0c2;border-radius:6px;padding:10px 12px;margin:12px 0}
.line{display:flex;justify-content:space-between;padding:8px 0;border-bottom:1px solid #eef0f3}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;background:#eef0f3;color:#3c4257}
.badge.active{background:#d7f7e2;color:#0b6b3a}.badge.trialing{background:#dde3ff;color:#3a3fb0}.badge.past_due,.badge.open{background:#fde8ec;color:#a3122f}.badge.paid{background:#d7f7e2;color:#0b6b3a}
table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:8px 4px;border-bottom:1px solid #eef0f3;font-size:14px}
a{color:#635bff}.back{display:inline-block;margin-bottom:16px;text-decoration:none}
.hint{font-size:12px;color:#6b7385;margin-top:16px}.hint code{background:#eef0f3;padding:1px 4px;border-radius:3px}
"#;

/// Wraps page content in the shared layout with the "simulated" banner.
fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><link rel=\"icon\" href=\"data:,\"><style>{CSS}</style></head><body><div class=\"banner\" role=\"note\">Simulated payment — no real money moves (stripe-sim test mode)</div>{body}</body></html>",
        esc(title)
    )
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let mut resp = (status, Html(layout(title, body))).into_response();
    // Hosted pages must never be cached: they change after every action.
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn not_found(what: &str) -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Not found",
        &format!(
            "<div class=\"wrap single\"><div class=\"card\"><h1>Not found</h1><p class=\"muted\">This {} does not exist.</p></div></div>",
            esc(what)
        ),
    )
}

fn see_other(url: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    match HeaderValue::from_str(url) {
        Ok(v) => {
            resp.headers_mut().insert(header::LOCATION, v);
            resp
        }
        Err(_) => page(
            StatusCode::BAD_REQUEST,
            "Bad redirect",
            "<div class=\"wrap single\"><div class=\"card\">Invalid redirect URL.</div></div>",
        ),
    }
}

/// Form fields of a hosted-page POST.
fn form(body: &[u8]) -> std::collections::HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_minor_units() {
        assert_eq!(money(900, "usd"), "$9.00");
        assert_eq!(money(29000, "USD"), "$290.00");
        assert_eq!(money(-150, "eur"), "-€1.50");
        assert_eq!(money(500, "jpy"), "¥500");
        assert_eq!(money(1234, "chf"), "CHF 12.34");
        assert_eq!(esc("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
