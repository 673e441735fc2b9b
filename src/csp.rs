//! The Content-Security-Policy of rendered pages. Every page allows scripts from our origin or with
//! the hash of an inline script of the shell (the islands loader) only; forms post only to us, and our answers may only redirect to
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

/// The CSP sources (`'sha256-…'`, space-separated) of the inline scripts every page carries: the
/// islands loader of `HydrationScripts`, whose text is fixed for a build. Hashes rather than a
/// per-response nonce make a page's bytes the same for every response, so the page cache can keep
/// each page compressed once (docs/BENCHMARKS.md, issue 20).
#[derive(Debug, Clone)]
pub struct InlineScriptHashes(pub std::sync::Arc<str>);

#[cfg(feature = "ssr")]
impl InlineScriptHashes {
    /// Renders the loader as pages render it and hashes each inline script's text (what a browser
    /// hashes: the characters between the tags, as sent).
    pub fn of_shell(options: &leptos::config::LeptosOptions) -> Self {
        use leptos::prelude::*;
        let options = options.clone();
        let html =
            Owner::new().with(|| view! { <HydrationScripts options islands=true /> }.to_html());
        let sources: Vec<String> = inline_scripts(&html)
            .chain(EMPTY_RESOURCE_DATA.iter().copied())
            .map(sha256_source)
            .collect();
        Self(sources.join(" ").into())
    }
}

/// What leptos' server rendering writes after a page for the data of resources read inside islands
/// (`hydration_context`'s `SsrSharedContext::pending_data`): our islands read none, so these are
/// always the empty declarations the island code expects. A page that ever serialized data would
/// have its script refused (the integration test `uncached_pages_allow_the_same_inline_scripts_by_hash`
/// reads every inline script of every kind of page), never allowed by accident.
#[cfg(feature = "ssr")]
const EMPTY_RESOURCE_DATA: &[&str] = &[
    "__RESOLVED_RESOURCES=[];__SERIALIZED_ERRORS=[];__PENDING_RESOURCES=[];__RESOURCE_RESOLVERS=[];",
    "__INCOMPLETE_CHUNKS=[];",
];

/// The text of every `<script …>…</script>` without a `src` in `html`.
#[cfg(feature = "ssr")]
pub fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let open_end = rest.find('>')?;
        let (attributes, body) = (&rest[..open_end], &rest[open_end + 1..]);
        let text = &body[..body.find("</script>")?];
        (!attributes.contains(" src=")).then_some(text)
    })
}

#[cfg(feature = "ssr")]
pub fn sha256_source(script: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(script.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Sets the page's policy; a page that calls it again (with Stripe.js) replaces the shell's.
#[cfg(feature = "ssr")]
pub fn set_content_security_policy(stripe_js: Option<&StripeJsSources>) {
    use axum::http::{HeaderValue, header};
    use leptos::prelude::use_context;
    let (Some(scripts), Some(response)) = (
        use_context::<InlineScriptHashes>(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let stripe_pages = use_context::<StripePageOrigins>()
        .map(|origins| origins.0)
        .unwrap_or_default();
    let policy = policy(&scripts.0, &stripe_pages, stripe_js);
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

fn policy(script_hashes: &str, stripe_pages: &str, stripe_js: Option<&StripeJsSources>) -> String {
    let (script, frame, connect) = match stripe_js {
        Some(js) => (
            format!(" {}", js.script),
            format!("frame-src {}; ", js.frame),
            format!("connect-src 'self' {}; ", js.connect),
        ),
        None => Default::default(),
    };
    format!(
        "default-src 'self'; script-src 'self' {script_hashes} 'wasm-unsafe-eval'{script}; \
         style-src 'self'; img-src 'self' data: https:; {frame}{connect}object-src 'none'; \
         base-uri 'self'; frame-ancestors 'none'; form-action 'self' {stripe_pages}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_without_stripe_js_admit_no_other_script_frame_or_connection() {
        let csp = policy("'sha256-abc'", "https://checkout.stripe.com", None);
        assert!(
            csp.contains("script-src 'self' 'sha256-abc' 'wasm-unsafe-eval';"),
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
        let csp = policy("'sha256-n'", "", Some(&js));
        assert!(
            csp.contains("script-src 'self' 'sha256-n' 'wasm-unsafe-eval' https://js.stripe.com;"),
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

    #[cfg(feature = "ssr")]
    #[test]
    fn only_inline_scripts_are_hashed_and_the_hash_is_of_their_text() {
        let html = r#"<link rel="modulepreload" href="/pkg/a.js"><script type="module" nonce="">run("a > b");</script><script src="/x.js"></script><script>two()</script>"#;
        let scripts: Vec<&str> = inline_scripts(html).collect();
        assert_eq!(scripts, ["run(\"a > b\");", "two()"]);
        // echo -n 'two()' | openssl dgst -sha256 -binary | base64
        assert_eq!(
            sha256_source("two()"),
            "'sha256-iMrPAWirDC2X0OhZzLsM2MRIWSmepJGI4r7D8ZlwBOw='"
        );
    }
}
