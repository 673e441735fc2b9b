//! The reference handler of `scripts/bench`: a bare axum + tokio server whose `GET /pricing` formats a
//! pricing page of the same shape and size as the app's (about 5 KB: the head with the inline islands
//! loader, header, two plan cards with monthly and yearly prices and Subscribe forms, footer) with
//! `write!` into a `String`, per request, with a per-response CSP nonce and the same kind of security
//! headers. No framework, middleware, logging or database: its CPU per request is the floor the app's
//! pages are compared with.
//!
//! Usage: cargo run --release --example plain_page --features ssr -- 127.0.0.1:PORT

use axum::Router;
use axum::extract::RawQuery;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::serve::ListenerExt;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

struct Price {
    id: &'static str,
    cents: u64,
    interval: &'static str,
    trial_days: Option<u32>,
}

struct Plan {
    role: &'static str,
    name: &'static str,
    description: &'static str,
    features: &'static [&'static str],
    prices: [Price; 2],
}

const PLANS: [Plan; 2] = [
    Plan {
        role: "basic",
        name: "Basic",
        description: "Everything you need to get started.",
        features: &["Up to 3 projects", "Email support", "Community access"],
        prices: [
            Price {
                id: "price_1basicmonthly0000000",
                cents: 900,
                interval: "month",
                trial_days: None,
            },
            Price {
                id: "price_1basicyearly00000000",
                cents: 9000,
                interval: "year",
                trial_days: None,
            },
        ],
    },
    Plan {
        role: "pro",
        name: "Pro",
        description: "For teams that ship every day.",
        features: &[
            "Unlimited projects",
            "Priority support",
            "Pro-only reports",
            "14-day free trial",
        ],
        prices: [
            Price {
                id: "price_1promonthly000000000",
                cents: 2900,
                interval: "month",
                trial_days: Some(14),
            },
            Price {
                id: "price_1proyearly0000000000",
                cents: 29000,
                interval: "year",
                trial_days: Some(14),
            },
        ],
    },
];

/// A per-response value, as the app's CSP nonce is, so the page cannot be a constant.
fn nonce() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);
    COUNTER
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_mul(0xbf58_476d_1ce4_e5b9)
}

/// `$9` or `$9.50`, from cents.
fn money(out: &mut String, cents: u64) -> std::fmt::Result {
    match cents % 100 {
        0 => write!(out, "${}", cents / 100),
        rest => write!(out, "${}.{rest:02}", cents / 100),
    }
}

fn saving_percent(plan: &Plan) -> u64 {
    let (month, year) = (plan.prices[0].cents * 12, plan.prices[1].cents);
    (month - year) * 100 / month
}

/// The inline script that loads the browser bundle and hydrates the islands (static, as the app's
/// is; only its nonce changes per response).
const LOADER: &str = r#"((root, pkg, name) => {
	const pending = [];
	function whenIdle(run) {
		if ("requestIdleCallback" in window) { window.requestIdleCallback(run); } else { run(); }
	}
	async function hydrateOne(element, mod) {
		const start = mod[element.dataset.component];
		if (!start) {
			console.warn(`no island function ${element.dataset.component}`);
			return;
		}
		const children = pending[pending.length - 1];
		if (children) { children(); }
		const result = start(element);
		if (result && result.then) { await result; }
	}
	async function walk(node, mod) {
		if (node.nodeType !== Node.ELEMENT_NODE) { return; }
		const tag = node.tagName.toLowerCase();
		if (tag === "leptos-island") {
			await hydrateOne(node, mod);
		} else if (tag === "leptos-children") {
			pending.push(node.$$on_hydrate);
			for (const child of node.children) { await walk(child, mod); }
			pending.pop();
			return;
		}
		for (const child of node.children) { await walk(child, mod); }
	}
	whenIdle(() => {
		import(`${root}/${pkg}/${name}.js`).then(mod => {
			mod.default({ module_or_path: `${root}/${pkg}/${name}.wasm` }).then(() => {
				mod.hydrate();
				walk(document.body, mod);
			});
			window.__hydrateIsland = (element) => hydrateOne(element, mod);
		});
	});
})("", "pkg", "storefront");"#;

fn render(interval: &str, nonce: &str) -> Result<String, std::fmt::Error> {
    let mut out = String::with_capacity(8 * 1024);
    write!(
        out,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light"><link rel="icon" href="/favicon.svg" type="image/svg+xml"><link rel="modulepreload" href="/pkg/storefront.js" nonce="{nonce}"><link rel="preload" href="/pkg/storefront.wasm" as="fetch" type="application/wasm" crossorigin="" nonce="{nonce}"><script type="module" nonce="{nonce}">{LOADER}</script><link id="leptos" rel="stylesheet" href="/pkg/storefront.css"><title>Storefront</title></head><body>"#
    )?;
    out.push_str(
        r#"<header class="site-header"><a href="/" class="brand">Storefront</a><nav class="site-nav"><a href="/pricing">Pricing</a><a href="/login">Sign in</a><a href="/signup" class="button small">Sign up</a></nav></header>"#,
    );
    write!(
        out,
        r#"<main class="site-main"><section class="pricing"><header class="pricing-head"><h1>Plans for every stage</h1><p class="lead">Start with Basic, grow into Pro. Switch or cancel any time.</p></header><div class="plans" id="plans" data-interval="{interval}" data-testid="plans"><leptos-island data-component="IntervalSwitch_1234"><nav class="interval-switch" aria-label="Billing interval"><a href="?interval=month"{month_active} aria-pressed="{month_pressed}">Monthly</a><a href="?interval=year"{year_active} aria-pressed="{year_pressed}">Yearly</a></nav></leptos-island><div class="plan-grid">"#,
        month_active = if interval == "month" {
            r#" class="active""#
        } else {
            ""
        },
        month_pressed = interval == "month",
        year_active = if interval == "year" {
            r#" class="active""#
        } else {
            ""
        },
        year_pressed = interval == "year",
    )?;
    for plan in &PLANS {
        write!(
            out,
            r#"<article class="plan-card" data-plan="{}"><h2>{}</h2><p class="muted">{}</p>"#,
            plan.role, plan.name, plan.description
        )?;
        for price in &plan.prices {
            write!(
                out,
                r#"<div class="plan-price interval-{}"><p class="amount"><span class="figure">"#,
                price.interval
            )?;
            money(&mut out, price.cents)?;
            write!(
                out,
                r#"</span><span class="per">/{}</span></p>"#,
                price.interval
            )?;
            if price.interval == "year" {
                write!(
                    out,
                    r#"<p class="saving">Save {}% with yearly billing</p>"#,
                    saving_percent(plan)
                )?;
            }
            if let Some(days) = price.trial_days {
                write!(out, r#"<p class="trial">{days}-day free trial</p>"#)?;
            }
            write!(
                out,
                r#"<form method="post" action="/api/start_checkout" class="subscribe"><input type="hidden" name="price_id" value="{}"/><button type="submit" class="button primary">Subscribe to {}</button></form></div>"#,
                price.id, plan.name
            )?;
        }
        out.push_str(r#"<ul class="features">"#);
        for feature in plan.features {
            write!(out, "<li>{feature}</li>")?;
        }
        out.push_str("</ul></article>");
    }
    out.push_str(
        r#"</div></div></section></main><footer class="site-footer"><span>© Storefront</span><a href="/pricing">Plans</a></footer><leptos-island data-component="HydrationMarker_5678"></leptos-island></body></html>"#,
    );
    write!(
        out,
        r#"<script nonce="{nonce}">__RESOLVED_RESOURCES=[];__PENDING_RESOURCES=[];</script>"#
    )?;
    Ok(out)
}

async fn pricing(RawQuery(query): RawQuery) -> impl IntoResponse {
    let year = query.is_some_and(|q| q.split('&').any(|pair| pair == "interval=year"));
    let nonce = format!("{:016x}", nonce());
    let body = render(if year { "year" } else { "month" }, &nonce).unwrap_or_default();
    // The same kind of headers as the app's pages: a per-response CSP with the nonce, and static ones.
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::CONTENT_SECURITY_POLICY, csp),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::X_FRAME_OPTIONS, "DENY".to_owned()),
            (
                header::REFERRER_POLICY,
                "strict-origin-when-cross-origin".to_owned(),
            ),
        ],
        body,
    )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3100".to_owned());
    // TCP_NODELAY as the app sets it, so both answer without waiting on delayed ACKs.
    let listener = tokio::net::TcpListener::bind(&addr).await?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, Router::new().route("/pricing", get(pricing))).await
}
