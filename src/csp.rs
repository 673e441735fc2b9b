//! The Content-Security-Policy of rendered pages. Every page allows scripts from our origin or with
//! its nonce (the islands loader) only; forms post only to us, and our answers may only redirect to
//! Stripe's hosted pages. `/shop/pay` alone also admits Stripe.js: its script, its frames (the card
//! field, 3-D Secure) and its API calls.

/// The origins of Stripe's hosted pages (space-separated), provided by the server for the CSP.
#[derive(Debug, Clone)]
pub struct StripePageOrigins(pub std::sync::Arc<str>);

/// What Stripe.js needs, as CSP sources (space-separated): Stripe's documented list for the real
/// Stripe.js, the simulator's origin offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeJsSources {
    pub script: String,
    pub frame: String,
    pub connect: String,
}

/// Sets the page's policy; a page that calls it again (with Stripe.js) replaces the shell's.
#[cfg(feature = "ssr")]
pub fn set_content_security_policy(stripe_js: Option<&StripeJsSources>) {
    use axum::http::{HeaderValue, header};
    use leptos::prelude::{use_context, use_nonce};
    let (Some(nonce), Some(response)) =
        (use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    let stripe_pages = use_context::<StripePageOrigins>()
        .map(|origins| origins.0)
        .unwrap_or_default();
    let policy = policy(&nonce.to_string(), &stripe_pages, stripe_js);
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

fn policy(nonce: &str, stripe_pages: &str, stripe_js: Option<&StripeJsSources>) -> String {
    let (script, frame, connect) = match stripe_js {
        Some(js) => (
            format!(" {}", js.script),
            format!("frame-src {}; ", js.frame),
            format!("connect-src 'self' {}; ", js.connect),
        ),
        None => Default::default(),
    };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'{script}; \
         style-src 'self'; img-src 'self' data: https:; {frame}{connect}object-src 'none'; \
         base-uri 'self'; frame-ancestors 'none'; form-action 'self' {stripe_pages}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_without_stripe_js_admit_no_other_script_frame_or_connection() {
        let csp = policy("abc", "https://checkout.stripe.com", None);
        assert!(
            csp.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"),
            "{csp}"
        );
        assert!(
            !csp.contains("frame-src") && !csp.contains("connect-src"),
            "{csp}"
        );
        assert!(
            csp.ends_with("form-action 'self' https://checkout.stripe.com"),
            "{csp}"
        );
    }

    #[test]
    fn the_pay_page_admits_exactly_stripe_js_sources() {
        let js = StripeJsSources {
            script: "https://js.stripe.com".into(),
            frame: "https://js.stripe.com https://hooks.stripe.com".into(),
            connect: "https://api.stripe.com".into(),
        };
        let csp = policy("n", "", Some(&js));
        assert!(
            csp.contains("script-src 'self' 'nonce-n' 'wasm-unsafe-eval' https://js.stripe.com;"),
            "{csp}"
        );
        assert!(
            csp.contains("frame-src https://js.stripe.com https://hooks.stripe.com;"),
            "{csp}"
        );
        assert!(
            csp.contains("connect-src 'self' https://api.stripe.com;"),
            "{csp}"
        );
    }
}
