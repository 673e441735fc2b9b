//! Reading the app's pages and form answers as a browser would.

/// The text of the first element with `data-testid="{id}"`.
pub fn testid_text<'a>(page: &'a str, id: &str) -> Option<&'a str> {
    let start = page.find(&format!("data-testid=\"{id}\""))?;
    let text = &page[start..];
    let text = &text[text.find('>')? + 1..];
    text.split('<').next()
}

/// The header's cart count as a page shows it.
pub fn cart_count(page: &str) -> Option<u32> {
    testid_text(page, "cart-count")?.trim().parse().ok()
}

/// The message a form's error redirect carries back (`__err`), if any.
pub fn form_error(location: &str) -> Option<String> {
    let query = location.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "__err")
        .and_then(|(_, value)| {
            use base64::Engine;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(value.as_bytes())
                .ok()?;
            let text = String::from_utf8(raw).ok()?;
            Some(
                text.strip_prefix("ServerError|")
                    .unwrap_or(&text)
                    .to_owned(),
            )
        })
}
