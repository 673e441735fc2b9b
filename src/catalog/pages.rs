use super::{Catalog, Interval, Plan};
use crate::auth::{Role, current_user};
use crate::billing::{OpenBillingPortal, StartCheckout};
use crate::components::FormError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

/// The catalog snapshot in memory (server only; page components do not run in the browser).
fn catalog() -> std::sync::Arc<Catalog> {
    #[cfg(feature = "ssr")]
    {
        use_context::<crate::state::AppState>()
            .map(|state| state.catalog.current())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        Default::default()
    }
}

#[component]
pub fn PricingPage() -> impl IntoView {
    let interval = use_query_map()
        .read_untracked()
        .get("interval")
        .and_then(|v| Interval::parse(&v))
        .unwrap_or_default();
    let user = current_user();
    let current_role = user.as_ref().map(|u| u.role).unwrap_or(Role::Free);
    let checkout = ServerAction::<StartCheckout>::new();
    let catalog = catalog();
    let cards = catalog
        .plans
        .iter()
        .map(|plan| view! { <PlanCard plan=plan.clone() current=plan.role == current_role /> })
        .collect_view();
    let empty = catalog.plans.is_empty();
    view! {
        <section class="pricing">
            <header class="pricing-head">
                <h1>"Plans for every stage"</h1>
                <p class="lead">"Start with Basic, grow into Pro. Switch or cancel any time."</p>
                {(current_role == Role::Free && user.is_some())
                    .then(|| view! { <p class="muted" data-testid="free-notice">"You are on the free plan."</p> })}
            </header>
            <FormError value=checkout.value() />
            {empty.then(|| view! { <p class="notice warn">"Plans are on their way. Please check back in a minute."</p> })}
            <IntervalSwitch initial=interval>{cards}</IntervalSwitch>
        </section>
    }
}

/// Shows monthly or yearly prices. Without JavaScript the two choices are links (`?interval=year`)
/// and the server renders the chosen one; once hydrated, a click only flips `data-interval`, and CSS
/// shows the matching prices, so the plan cards need no client-side rendering.
#[island]
pub fn IntervalSwitch(initial: Interval, children: Children) -> impl IntoView {
    let interval = RwSignal::new(initial);
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
        <div class="plans" data-interval=move || interval.get().as_str() data-testid="plans">
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
            <div class="plan-grid">{children()}</div>
        </div>
    }
}

#[component]
fn PlanCard(plan: Plan, current: bool) -> impl IntoView {
    let saving = plan.yearly_saving_percent();
    let prices = [plan.monthly.clone(), plan.yearly.clone()]
        .into_iter()
        .flatten()
        .map(|price| {
            let per = match price.interval {
                Interval::Month => "/month",
                Interval::Year => "/year",
            };
            let trial = price.trial_days.filter(|d| *d > 0).map(|d| format!("{d}-day free trial"));
            let note = match (price.interval, saving) {
                (Interval::Year, Some(pct)) => Some(format!("Save {pct}% with yearly billing")),
                _ => None,
            };
            let action = if current {
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
                        <input type="hidden" name="price_id" value=price.price_id.clone() />
                        <button type="submit" class="button primary">
                            {format!("Subscribe to {}", plan.name)}
                        </button>
                    </form>
                }
                .into_any()
            };
            view! {
                <div class=format!("plan-price interval-{}", price.interval.as_str())>
                    <p class="amount">
                        <span class="figure">{price.money.format()}</span>
                        <span class="per">{per}</span>
                    </p>
                    {note.map(|n| view! { <p class="saving">{n}</p> })}
                    {trial.map(|t| view! { <p class="trial">{t}</p> })}
                    {action}
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
