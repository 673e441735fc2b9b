//! The card payment island of `/shop/pay`. In the browser it loads Stripe.js (the URL and the
//! publishable key are data attributes of its wrapper), mounts Stripe's card field, and on submit
//! asks `/api/pay_cart` for the order's PaymentIntent and confirms it with `confirmCardPayment`,
//! which also runs 3-D Secure. The card number stays inside Stripe's frame: this code never sees it.
//! Only Stripe.js's documented API is used, so the same code runs against Stripe and stripe-sim.
//! The result page reads the intent on the server; nothing here decides that an order is paid.

use leptos::prelude::*;

#[island]
pub fn CardPaymentForm() -> impl IntoView {
    let ready = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            let on_change = move |message: Option<String>| error.set(message);
            match browser::mount(on_change).await {
                Ok(()) => ready.set(true),
                Err(message) => error.set(Some(message)),
            }
        });
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() || !ready.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            match browser::pay().await {
                Ok(next) => {
                    let _ = window().location().assign(&next);
                }
                Err(message) => {
                    error.set(Some(message));
                    busy.set(false);
                }
            }
        });
    };
    let label = move || {
        if busy.get() {
            "Processing…"
        } else if ready.get() {
            "Pay now"
        } else {
            "Loading the card form…"
        }
    };
    view! {
        <form class="card-payment" on:submit=on_submit data-testid="card-form">
            <label for="card-element">"Card"</label>
            <div id="card-element" class="card-element"></div>
            // Until Stripe.js has mounted the field (and always without JavaScript, where
            // `<noscript>` is not dependable) the buyer is told where else to pay.
            <p class="muted" data-testid="card-loading" hidden=move || ready.get()>
                "The card form needs JavaScript. If it does not appear, pay on Stripe's checkout page below."
            </p>
            <p class="notice error" role="alert" data-testid="card-error" hidden=move || error.with(Option::is_none)>
                {move || error.get()}
            </p>
            <button type="submit" class="button primary" data-testid="pay" disabled=move || busy.get() || !ready.get()>
                {label}
            </button>
        </form>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use js_sys::{Function, Object, Promise, Reflect};
    use leptos::prelude::{document, window};
    use leptos::wasm_bindgen::prelude::*;
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use leptos::web_sys::{Headers, HtmlScriptElement, RequestInit, Response};
    use std::cell::RefCell;
    use wasm_bindgen_futures::JsFuture;

    const TRY_AGAIN: &str = "The payment could not be completed. Please try again.";
    const NOT_LOADED: &str = "We could not load the card form. Please reload the page, or pay on \
                              Stripe's checkout page below.";

    // Stripe.js's documented API (https://docs.stripe.com/js), only what this page uses.
    #[wasm_bindgen]
    extern "C" {
        #[derive(Clone)]
        type Stripe;
        #[wasm_bindgen(catch, js_name = Stripe)]
        fn new_stripe(publishable_key: &str) -> Result<Stripe, JsValue>;
        #[wasm_bindgen(method)]
        fn elements(this: &Stripe) -> Elements;
        #[wasm_bindgen(method, js_name = confirmCardPayment)]
        fn confirm_card_payment(this: &Stripe, client_secret: &str, data: &JsValue) -> Promise;

        type Elements;
        #[wasm_bindgen(method)]
        fn create(this: &Elements, kind: &str) -> CardElement;

        #[derive(Clone)]
        type CardElement;
        #[wasm_bindgen(method)]
        fn mount(this: &CardElement, selector: &str);
        #[wasm_bindgen(method)]
        fn on(this: &CardElement, event: &str, handler: &Function);
    }

    struct Mounted {
        stripe: Stripe,
        card: CardElement,
    }

    thread_local! {
        static MOUNTED: RefCell<Option<Mounted>> = const { RefCell::new(None) };
    }

    fn field(object: &JsValue, name: &str) -> JsValue {
        Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }

    /// Loads Stripe.js, mounts the card field and reports its validation messages to `on_change`.
    pub(super) async fn mount(on_change: impl Fn(Option<String>) + 'static) -> Result<(), String> {
        let wrapper = document()
            .get_element_by_id("card-payment")
            .ok_or(NOT_LOADED)?;
        let key = wrapper
            .get_attribute("data-publishable-key")
            .ok_or(NOT_LOADED)?;
        let url = wrapper.get_attribute("data-stripe-js").ok_or(NOT_LOADED)?;
        load_script(&url).await.map_err(|_| NOT_LOADED.to_owned())?;
        let stripe = new_stripe(&key).map_err(|_| NOT_LOADED.to_owned())?;
        let card = stripe.elements().create("card");
        card.mount("#card-element");
        let handler = Closure::<dyn Fn(JsValue)>::new(move |event: JsValue| {
            on_change(field(&field(&event, "error"), "message").as_string());
        });
        card.on("change", handler.as_ref().unchecked_ref());
        // The field lives as long as the page, and so does its handler.
        handler.forget();
        MOUNTED.with(|m| *m.borrow_mut() = Some(Mounted { stripe, card }));
        Ok(())
    }

    async fn load_script(url: &str) -> Result<JsValue, JsValue> {
        let script: HtmlScriptElement = document().create_element("script")?.dyn_into()?;
        script.set_src(url);
        let loaded = Promise::new(&mut |resolve, reject| {
            script.set_onload(Some(&resolve));
            script.set_onerror(Some(&reject));
        });
        document()
            .head()
            .ok_or_else(|| JsValue::from_str("no head"))?
            .append_child(&script)?;
        JsFuture::from(loaded).await
    }

    /// Gets the order's PaymentIntent from our server and confirms it with the card field; the
    /// order page to go to when Stripe has taken the payment, or the message to show.
    pub(super) async fn pay() -> Result<String, String> {
        let answer = pay_cart().await?;
        let order_id = field(&answer, "order_id").as_f64().ok_or(TRY_AGAIN)?;
        let secret = field(&answer, "client_secret")
            .as_string()
            .ok_or(TRY_AGAIN)?;
        let (stripe, card) = MOUNTED
            .with(|m| {
                m.borrow()
                    .as_ref()
                    .map(|m| (m.stripe.clone(), m.card.clone()))
            })
            .ok_or(NOT_LOADED)?;
        let method = Object::new();
        Reflect::set(&method, &"card".into(), &card).map_err(|_| TRY_AGAIN)?;
        let data = Object::new();
        Reflect::set(&data, &"payment_method".into(), &method).map_err(|_| TRY_AGAIN)?;
        let result = JsFuture::from(stripe.confirm_card_payment(&secret, &data))
            .await
            .map_err(|_| TRY_AGAIN.to_owned())?;
        let error = field(&result, "error");
        if !error.is_undefined() {
            return Err(field(&error, "message")
                .as_string()
                .unwrap_or_else(|| TRY_AGAIN.to_owned()));
        }
        let intent = field(&result, "paymentIntent");
        let status = field(&intent, "status").as_string().unwrap_or_default();
        let id = field(&intent, "id").as_string().unwrap_or_default();
        match status.as_str() {
            "succeeded" | "processing" => Ok(format!(
                "/shop/orders/{}?payment_intent={id}",
                order_id as i64
            )),
            _ => Err(TRY_AGAIN.to_owned()),
        }
    }

    /// `POST /api/pay_cart` with the cart version the page showed (so the server charges that cart
    /// or refuses: security review 2, L1); our server's message when it refuses (sold out, the cart
    /// changed, signed out, …).
    async fn pay_cart() -> Result<JsValue, String> {
        let version = document()
            .get_element_by_id("card-payment")
            .and_then(|wrapper| wrapper.get_attribute("data-cart-version"))
            .ok_or(NOT_LOADED)?;
        let headers = Headers::new().map_err(|_| TRY_AGAIN)?;
        headers
            .set("Accept", "application/json")
            .map_err(|_| TRY_AGAIN)?;
        headers
            .set("Content-Type", "application/x-www-form-urlencoded")
            .map_err(|_| TRY_AGAIN)?;
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        let body = format!(
            "cart_version={}",
            String::from(js_sys::encode_uri_component(&version))
        );
        init.set_body(&JsValue::from_str(&body));
        let answer = JsFuture::from(window().fetch_with_str_and_init("/api/pay_cart", &init))
            .await
            .map_err(|_| TRY_AGAIN.to_owned())?;
        let response: Response = answer.dyn_into().map_err(|_| TRY_AGAIN)?;
        let text = JsFuture::from(response.text().map_err(|_| TRY_AGAIN)?)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default();
        if !response.ok() {
            return Err(server_message(&text));
        }
        js_sys::JSON::parse(&text).map_err(|_| TRY_AGAIN.to_owned())
    }

    /// The message of a server function's error answer.
    fn server_message(body: &str) -> String {
        let message = body.rsplit_once('|').map_or(body, |(_, m)| m).trim();
        if message.is_empty() || message.len() > 200 {
            TRY_AGAIN.to_owned()
        } else {
            message.to_owned()
        }
    }
}
