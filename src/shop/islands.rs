//! The shop's two islands: the header's cart count, and the add-to-cart forms that, with JavaScript,
//! post in the background and update that count without a reload. Neither takes props (island props
//! travel as JSON, which would put serde_json into the bundle; docs/ARCHITECTURE.md, "Islands"): the
//! count comes from the header's `data-cart-count`, the forms are server-rendered children.

use leptos::prelude::*;

/// The cart's item count of the request being rendered (0 without a cart).
pub fn current_cart_count() -> u32 {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<super::ssr::CartCount>().copied())
            .map_or(0, |count| count.0)
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .get_element_by_id("site-header")
            .and_then(|header| header.get_attribute("data-cart-count"))
            .and_then(|count| count.parse().ok())
            .unwrap_or(0)
    }
}

/// The count both islands share in the browser. Reference-counted rather than owned by one
/// island, so it lives as long as the page; on the server, one per render.
fn shared_count() -> ArcRwSignal<u32> {
    #[cfg(feature = "ssr")]
    {
        ArcRwSignal::new(current_cart_count())
    }
    #[cfg(not(feature = "ssr"))]
    {
        thread_local! {
            static COUNT: ArcRwSignal<u32> = ArcRwSignal::new(current_cart_count());
        }
        COUNT.with(Clone::clone)
    }
}

#[island]
pub fn CartCount() -> impl IntoView {
    let count = shared_count();
    view! {
        <a href="/cart" class="cart-link" data-testid="cart-link">
            "Cart "
            <span class="cart-count" data-testid="cart-count">{move || count.get()}</span>
        </a>
    }
}

/// Wraps an add-to-cart form. Without JavaScript the form posts and the server answers with the
/// cart page. With it, the post goes in the background and the header's count updates; if that
/// post fails for any reason, the form is submitted the ordinary way, so the server shows why.
#[island]
pub fn AddToCart(children: Children) -> impl IntoView {
    let added = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast;
            let Some(form) = ev
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::HtmlFormElement>().ok())
            else {
                return;
            };
            ev.prevent_default();
            added.set(false);
            leptos::task::spawn_local(async move {
                match browser::post_form(&form).await {
                    Some(count) => {
                        shared_count().set(count);
                        added.set(true);
                    }
                    None => {
                        let _ = form.submit();
                    }
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <div class="add-to-cart" on:submit=on_submit>
            {children()}
            <p class="added" role="status" data-testid="added">
                {move || if added.get() { "Added to your cart." } else { "" }}
            </p>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::window;
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use leptos::web_sys::{
        FormData, Headers, HtmlFormElement, RequestInit, Response, UrlSearchParams,
    };
    use wasm_bindgen_futures::JsFuture;

    /// Posts the form as `application/x-www-form-urlencoded` and reads the server function's answer
    /// (the cart's count, as JSON); `None` on any failure.
    pub(super) async fn post_form(form: &HtmlFormElement) -> Option<u32> {
        let data = FormData::new_with_form(form).ok()?;
        let body = UrlSearchParams::new_with_str_sequence_sequence(&data).ok()?;
        let headers = Headers::new().ok()?;
        headers.set("Accept", "application/json").ok()?;
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        init.set_body(&JsValue::from(body));
        let answer = JsFuture::from(window().fetch_with_str_and_init(&form.action(), &init))
            .await
            .ok()?;
        let response: Response = answer.dyn_into().ok()?;
        if !response.ok() {
            return None;
        }
        let text = JsFuture::from(response.text().ok()?)
            .await
            .ok()?
            .as_string()?;
        text.trim().parse().ok()
    }
}
