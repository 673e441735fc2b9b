//! Issue 20, compression and the browser's caches, seen from outside: cached pages kept compressed
//! once and served in the encoding asked for, inline scripts allowed by hash (no nonce), and the
//! hashed, pre-compressed bundle with its long lifetime.

use crate::helpers::{TestApp, unique_email};
use std::io::Read;
use std::time::Duration;

/// The page at `path` as a client asks for it with `accept_encoding`: its policy, its
/// `Content-Encoding`, and its body decoded.
pub(crate) async fn page_as(
    app: &TestApp,
    path: &str,
    accept_encoding: &str,
) -> (String, Option<String>, String) {
    let response = app
        .browser()
        .get(app.url(path))
        .header("accept-encoding", accept_encoding)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200, "GET {path}");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().expect("ascii").to_owned())
    };
    let policy = header("content-security-policy").expect("a policy");
    let encoding = header("content-encoding");
    if encoding.is_some() {
        let vary = header("vary").unwrap_or_default();
        assert!(vary.contains("accept-encoding"), "{path}: Vary is {vary:?}");
    }
    let body = response.bytes().await.expect("body");
    let mut page = Vec::new();
    match encoding.as_deref() {
        Some("br") => brotli::Decompressor::new(&body[..], 4096).read_to_end(&mut page),
        Some("gzip") => flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut page),
        None => {
            page.extend_from_slice(&body);
            Ok(body.len())
        }
        Some(other) => panic!("{path}: unexpected encoding {other}"),
    }
    .expect("decodes");
    (policy, encoding, String::from_utf8(page).expect("utf-8"))
}

/// Every inline script of `page` is allowed by its SHA-256 in `policy`, and no nonce is used.
fn assert_scripts_allowed_by_hash(path: &str, policy: &str, page: &str) {
    use base64::Engine;
    use sha2::Digest;
    assert!(!policy.contains("'nonce-"), "{path}: {policy}");
    let mut inline = 0;
    for script in page.split("<script").skip(1) {
        let (attributes, rest) = script.split_once('>').expect("a tag");
        if attributes.contains(" src=") {
            continue;
        }
        let text = &rest[..rest.find("</script>").expect("closed")];
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text));
        assert!(
            policy.contains(&format!("'sha256-{hash}'")),
            "{path}: script {text:?} not in {policy}"
        );
        inline += 1;
    }
    assert!(inline > 0, "{path}: the islands loader is inline");
}

/// Issue 20: a cached page is the same bytes for every response, kept compressed once: brotli for
/// browsers, gzip for clients that ask only for it, none for those that ask for neither.
#[tokio::test]
async fn cached_pages_are_served_compressed_as_asked_and_their_scripts_are_allowed_by_hash() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let good_page = "/shop/mug";
    crate::helpers::eventually(
        Duration::from_secs(10),
        "the mug's page renders",
        || async {
            app.page(&app.browser(), good_page)
                .await
                .contains("</html>")
        },
    )
    .await;
    for path in [
        "/",
        "/pricing",
        "/pricing?interval=year",
        "/login",
        "/signup",
        "/shop",
        good_page,
        "/cart",
    ] {
        let (policy, encoding, first) = page_as(&app, path, "gzip, deflate, br, zstd").await;
        assert_eq!(encoding.as_deref(), Some("br"), "{path}");
        assert_scripts_allowed_by_hash(path, &policy, &first);
        let (_, _, second) = page_as(&app, path, "gzip, deflate, br, zstd").await;
        assert_eq!(first, second, "{path}: the same page for every response");
        let (gzip_policy, encoding, gzipped) = page_as(&app, path, "gzip").await;
        assert_eq!(encoding.as_deref(), Some("gzip"), "{path}");
        assert_eq!(
            (gzip_policy, gzipped),
            (policy.clone(), first.clone()),
            "{path}"
        );
        let (_, encoding, plain) = page_as(&app, path, "identity").await;
        assert_eq!(encoding, None, "{path}");
        assert_eq!(plain, first, "{path}");
    }
    let (_, _, yearly) = page_as(&app, "/pricing?interval=year", "br").await;
    assert!(
        yearly.contains("data-interval=\"year\""),
        "the year view is its own entry"
    );
}

/// The pages that are never cached (an order, the pay page with Stripe.js) carry the same hashes.
#[tokio::test]
async fn uncached_pages_allow_the_same_inline_scripts_by_hash() {
    let app = TestApp::spawn().await;
    let browser = app.new_user(&unique_email("hashes")).await;
    for path in ["/dashboard", "/shop?x=1", "/billing/success"] {
        let response = app.get(&browser, path).await;
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let page = response.text().await.expect("page");
        assert_scripts_allowed_by_hash(path, &policy, &page);
    }
}

/// Issue 20: a release build names the bundle by hash and writes `.br`/`.gz` beside each file; pages
/// link the hashed names (allowed by the CSP's hash of the loader), and `/pkg` serves the
/// pre-compressed bytes with a year's immutable lifetime. Without hashes, browsers revalidate.
#[tokio::test]
async fn a_hashed_bundle_is_linked_and_served_precompressed_and_immutable() {
    let site = std::env::temp_dir().join(format!("storefront-site-{}", unique_email("site")));
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg).expect("site dir");
    let js = "export default function init() {}".repeat(50);
    std::fs::write(pkg.join("storefront.JsHash1.js"), &js).expect("js");
    let mut js_br = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut js_br, 4096, 9, 22);
        std::io::Write::write_all(&mut writer, js.as_bytes()).expect("compress");
    }
    std::fs::write(pkg.join("storefront.JsHash1.js.br"), &js_br).expect("js.br");
    std::fs::write(pkg.join("storefront.CssHash3.css"), "body{}").expect("css");
    std::fs::write(
        site.join("hash.txt"),
        "js: JsHash1\nwasm: WasmHash2\ncss: CssHash3\n",
    )
    .expect("hash file");
    let app =
        TestApp::spawn_with(&[("LEPTOS_SITE_ROOT", site.to_str().expect("utf-8 path"))]).await;

    let (policy, _, page) = page_as(&app, "/login", "br").await;
    assert!(
        page.contains("href=\"/pkg/storefront.JsHash1.js\""),
        "{page}"
    );
    assert!(
        page.contains("href=\"/pkg/storefront.WasmHash2.wasm\""),
        "{page}"
    );
    assert!(
        page.contains("href=\"/pkg/storefront.CssHash3.css\""),
        "{page}"
    );
    assert_scripts_allowed_by_hash("/login", &policy, &page);

    let response = app
        .browser()
        .get(app.url("/pkg/storefront.JsHash1.js"))
        .header("accept-encoding", "gzip, deflate, br, zstd")
        .send()
        .await
        .expect("the bundle");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "br");
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(response.headers()["vary"], "accept-encoding");
    assert_eq!(
        response.bytes().await.expect("bytes"),
        js_br,
        "the .br file as it is"
    );
    std::fs::remove_dir_all(&site).expect("site removed");

    // A build without hashes: fixed names, revalidated.
    std::fs::create_dir_all(&pkg).expect("site dir");
    std::fs::write(pkg.join("storefront.css"), "body{}").expect("css");
    let unhashed =
        TestApp::spawn_with(&[("LEPTOS_SITE_ROOT", site.to_str().expect("utf-8 path"))]).await;
    let response = unhashed
        .browser()
        .get(unhashed.url("/pkg/storefront.css"))
        .send()
        .await
        .expect("the stylesheet");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let (_, _, page) = page_as(&unhashed, "/login", "br").await;
    assert!(page.contains("href=\"/pkg/storefront.css\""), "{page}");
    std::fs::remove_dir_all(&site).ok();
}

/// Issue 20: a signed-in page kept in memory is answered in front of the session layer; it must be
/// what the full path sends: the same body, the security headers, `Cache-Control: no-store`, and
/// only for the session it was rendered for.
#[tokio::test]
async fn a_kept_signed_in_page_is_answered_like_a_rendered_one() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let email = unique_email("front-door");
    let cookie = crate::helpers::signed_in_cookie(&app, &email).await;
    let fetch = || async {
        let response = app
            .browser()
            .get(app.url("/dashboard"))
            .header("cookie", &cookie)
            .header("accept-encoding", "identity")
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
        let mut headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "date" | "x-request-id" | "vary"))
            .map(|(name, value)| (name.to_string(), value.to_str().expect("ascii").to_owned()))
            .collect();
        headers.sort();
        (headers, response.text().await.expect("body"))
    };
    let rendered = fetch().await;
    let kept = fetch().await;
    assert!(rendered.1.contains(&email), "the dashboard of {email}");
    assert_eq!(kept, rendered, "the kept page is the rendered one");
    for (name, value) in [
        ("cache-control", "no-store"),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
    ] {
        assert!(
            kept.0.iter().any(|(n, v)| n == name && v == value),
            "{name}: {value} missing in {:?}",
            kept.0
        );
    }
    let other = crate::helpers::signed_in_cookie(&app, &unique_email("front-door-2")).await;
    let page = app
        .browser()
        .get(app.url("/dashboard"))
        .header("cookie", &other)
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(!page.contains(&email), "another session gets its own page");
}
