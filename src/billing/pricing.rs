//! The pricing page: the plans on sale with a month/year toggle and a Subscribe form per price.

use super::{BILLING_FORM_MESSAGES, OpenBillingPortal, StartCheckout};
use crate::auth::current_user;
use crate::catalog::{Catalog, Plan, PlanPrice};
use crate::components::FormError;
use crate::components::PageMeta;
use crate::domain::{Interval, Role};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// The catalog snapshot in memory (server only; page components do not run in the browser).
fn catalog() -> std::sync::Arc<Catalog> {
    #[cfg(feature = "ssr")]
    {
        use_context::<std::sync::Arc<crate::catalog::ssr::CatalogStore>>()
            .map(|store| store.current())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        Default::default()
    }
}

#[component]
pub fn PricingPage() -> impl IntoView {
    let user = current_user();
    let current_role = user.as_ref().map(|u| u.role).unwrap_or(Role::Free);
    let checkout = ServerAction::<StartCheckout>::new();
    view! {
        <PageMeta title="Plans and pricing" description="Compare the Basic and Pro plans, billed monthly or yearly, and subscribe in a minute." />
        <section class="pricing">
            <header class="pricing-head">
                <h1>"Plans for every stage"</h1>
                <p class="lead">"Start with Basic, grow into Pro. Switch or cancel any time."</p>
                {(current_role == Role::Free && user.is_some())
                    .then(|| view! { <p class="muted" data-testid="free-notice">"You are on the free plan."</p> })}
            </header>
            <FormError value=checkout.value() messages=BILLING_FORM_MESSAGES />
            <PlanGrid current_role />
        </section>
    }
}

/// The plans on sale with the month/year toggle, the user's current plan marked. Shown by the
/// pricing page and by a free user's dashboard.
#[component]
pub fn PlanGrid(current_role: Role) -> impl IntoView {
    let catalog = catalog();
    let cards = catalog
        .plans
        .iter()
        .map(|plan| view! { <PlanCard plan=plan.clone() current=plan.role == current_role /> })
        .collect_view();
    let empty = catalog.plans.is_empty();
    view! {
        {empty.then(|| view! { <p class="notice warn">"Plans are on their way. Please check back in a minute."</p> })}
        <div class="plans" id="plans" data-interval=initial_interval().as_str() data-testid="plans">
            <IntervalSwitch />
            <div class="plan-grid">{cards}</div>
        </div>
    }
    .into_any()
}

/// The month/year toggle: links without JavaScript, a flip of the grid's `data-interval` once
/// hydrated. Why it takes no props: docs/ARCHITECTURE.md, "Islands".
#[island]
pub fn IntervalSwitch() -> impl IntoView {
    let interval = RwSignal::new(initial_interval());
    Effect::new(move |_| {
        let chosen = interval.get();
        if let Some(grid) = document().get_element_by_id("plans") {
            let _ = grid.set_attribute("data-interval", chosen.as_str());
        }
    });
    let choose = move |ev: leptos::ev::MouseEvent, choice: Interval| {
        ev.prevent_default();
        interval.set(choice);
        let url = format!("?interval={}", choice.as_str());
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(
                &leptos::wasm_bindgen::JsValue::NULL,
                "",
                Some(&url),
            );
        }
    };
    let is = move |choice: Interval| move || interval.get() == choice;
    view! {
        <nav class="interval-switch" aria-label="Billing interval">
            <a
                href="?interval=month"
                class:active=is(Interval::Month)
                aria-pressed=move || is(Interval::Month)().to_string()
                on:click=move |ev| choose(ev, Interval::Month)
            >
                "Monthly"
            </a>
            <a
                href="?interval=year"
                class:active=is(Interval::Year)
                aria-pressed=move || is(Interval::Year)().to_string()
                on:click=move |ev| choose(ev, Interval::Year)
            >
                "Yearly"
            </a>
        </nav>
    }
}

fn initial_interval() -> Interval {
    #[cfg(feature = "ssr")]
    let chosen = leptos_router::hooks::use_query_map()
        .read_untracked()
        .get("interval");
    #[cfg(not(feature = "ssr"))]
    let chosen = document()
        .get_element_by_id("plans")
        .and_then(|grid| grid.get_attribute("data-interval"));
    chosen
        .and_then(|value| value.parse().ok())
        .unwrap_or_default()
}

#[component]
fn PlanCard(plan: Plan, current: bool) -> impl IntoView {
    let saving = plan.yearly_saving_percent();
    let prices = [plan.monthly.clone(), plan.yearly.clone()]
        .into_iter()
        .flatten()
        .map(|price| {
            let note = match (price.interval, saving) {
                (Interval::Year, Some(pct)) => Some(format!("Save {pct}% with yearly billing")),
                _ => None,
            };
            let trial = price
                .trial_days
                .filter(|d| *d > 0)
                .map(|d| format!("{d}-day free trial"));
            let class = format!("plan-price interval-{}", price.interval);
            let (figure, per) = (price.money.format(), format!("/{}", price.interval));
            view! {
                <div class=class>
                    <p class="amount">
                        <span class="figure">{figure}</span>
                        <span class="per">{per}</span>
                    </p>
                    {note.map(|n| view! { <p class="saving">{n}</p> })}
                    {trial.map(|t| view! { <p class="trial">{t}</p> })}
                    <PriceAction price=price plan_name=plan.name.clone() current />
                </div>
            }
        })
        .collect_view();
    view! {
        <article class="plan-card" class:current=current data-plan=plan.role.as_str()>
            <h2>{plan.name.clone()}</h2>
            {current.then(|| view! { <p class="badge" data-testid="current-plan">"Your plan"</p> })}
            {plan.description.clone().map(|d| view! { <p class="muted">{d}</p> })}
            {prices}
            <ul class="features">
                {plan.features.iter().map(|f| view! { <li>{f.clone()}</li> }).collect_view()}
            </ul>
        </article>
    }
}

/// "Manage billing" on the current plan, "Subscribe" elsewhere. The portal button posts through an
/// ActionForm so a failure shows inline (the page's FormError); Subscribe is a plain form because its
/// success is a redirect off-site to Checkout.
#[component]
fn PriceAction(price: PlanPrice, plan_name: String, current: bool) -> impl IntoView {
    if current {
        let portal = ServerAction::<OpenBillingPortal>::new();
        view! {
            <ActionForm action=portal>
                <button type="submit" class="button">"Manage billing"</button>
            </ActionForm>
        }
        .into_any()
    } else {
        view! {
            <form method="post" action={<StartCheckout as ServerFn>::PATH} class="subscribe">
                <input type="hidden" name="price_id" value=price.price_id.to_string() />
                <button type="submit" class="button primary">{format!("Subscribe to {plan_name}")}</button>
            </form>
        }
        .into_any()
    }
}
