//! Forms that keep what was typed and say what went wrong where, and pages that say what they are.

use crate::helpers::{TestApp, get_url, location};

/// Without JavaScript: the page comes back with the address still typed in, the error under the
/// password field, tied to it, announced, and the focus on it; the kept address is not kept longer.
#[tokio::test]
async fn a_refused_form_keeps_the_address_and_ties_the_error_to_its_field() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let response = app
        .post_form(
            &browser,
            "/api/signup",
            "/signup",
            &[("email", "kept@example.com"), ("password", "short")],
        )
        .await;
    assert_eq!(response.status(), 302);
    let back = location(&response);
    let page = get_url(&browser, &back).await.text().await.expect("body");
    let email_input = input_named(&page, "email");
    assert!(
        email_input.contains(r#"value="kept@example.com""#),
        "{email_input}"
    );
    assert!(!email_input.contains("aria-invalid"), "{email_input}");
    let password_input = input_named(&page, "password");
    for attribute in [
        r#"aria-invalid="true""#,
        "autofocus",
        r#"aria-describedby="field-password-error field-password-hint""#,
    ] {
        assert!(
            password_input.contains(attribute),
            "{attribute}: {password_input}"
        );
    }
    assert!(
        !password_input.contains("value="),
        "a password is never sent back"
    );
    assert!(
        page.contains(
            r#"<p id="field-password-error" role="alert" class="field-error">This password is too weak: use at least 10 characters.</p>"#
        ),
        "{}",
        &page[page.find("<main").unwrap_or(0)..]
    );
    // Read once: the same page again shows the error but no longer the address.
    let again = get_url(&browser, &back).await.text().await.expect("body");
    assert!(!input_named(&again, "email").contains("kept@example.com"));
}

/// The `<input …>` tag with `name="{name}"`.
fn input_named<'a>(page: &'a str, name: &str) -> &'a str {
    let at = page
        .find(&format!(r#"name="{name}""#))
        .unwrap_or_else(|| panic!("no input {name}"));
    let start = page[..at].rfind("<input").expect("an input tag");
    let end = at + page[at..].find('>').expect("its end");
    &page[start..=end]
}

fn title_and_description(page: &str) -> (String, usize) {
    let title = page
        .split_once("<title>")
        .and_then(|(_, rest)| rest.split_once("</title>"))
        .map(|(title, _)| title.to_owned())
        .unwrap_or_default();
    (title, page.matches(r#"<meta name="description""#).count())
}

/// Every page has a title of its own and one description.
#[tokio::test]
async fn every_page_has_its_own_title_and_one_description() {
    let app = TestApp::spawn().await;
    let visitor = app.browser();
    let mut titles = Vec::new();
    for path in [
        "/pricing",
        "/login",
        "/signup",
        "/signup/check-email",
        "/forgot-password",
        "/reset-password?token=x",
        "/verify-email?token=x",
        "/shop",
        "/shop/mug",
        "/cart",
        "/no-such-page",
    ] {
        let page = get_url(&visitor, &app.url(path))
            .await
            .text()
            .await
            .expect("body");
        titles.push((path, title_and_description(&page)));
    }
    let user = app.new_user("titles@example.com").await;
    for path in ["/dashboard", "/account", "/pro"] {
        let page = get_url(&user, &app.url(path))
            .await
            .text()
            .await
            .expect("body");
        titles.push((path, title_and_description(&page)));
    }
    for (path, (title, descriptions)) in &titles {
        assert!(title.ends_with(" · Storefront"), "{path}: {title:?}");
        assert_eq!(*descriptions, 1, "{path}");
    }
    let mut distinct: Vec<&String> = titles.iter().map(|(_, (title, _))| title).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), titles.len(), "{titles:?}");
}
