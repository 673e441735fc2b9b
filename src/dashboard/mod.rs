//! The subscriber dashboard.

use crate::auth::current_user;
use leptos::prelude::*;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let Some(user) = current_user() else {
        #[cfg(feature = "ssr")]
        leptos_axum::redirect("/login?next=/dashboard");
        return view! { <p>"Please " <a href="/login?next=/dashboard">"sign in"</a> "."</p> }
            .into_any();
    };
    view! {
        <section class="dashboard">
            <h1>"Your account"</h1>
            <dl class="facts">
                <dt>"E-mail"</dt>
                <dd data-testid="account-email">{user.email}</dd>
                <dt>"Plan"</dt>
                <dd data-testid="plan">{user.role.label()}</dd>
            </dl>
        </section>
    }
    .into_any()
}
