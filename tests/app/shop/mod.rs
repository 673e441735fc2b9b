//! The shop: goods and stock, the cart in the session, checkout of a cart with its stock reserved,
//! and fulfilment from Stripe's state (webhooks, the success page, expiry, refunds).

mod cart;
mod checkout;
mod fulfilment;
mod order_sync;
mod pay_on_page;
mod replay;
mod switching;

use crate::helpers::TestApp;

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

/// Sets the stock of a good (an operator's count after a delivery).
pub async fn set_stock(app: &TestApp, slug: &str, on_hand: i64) {
    sqlx::query("UPDATE products SET stock_on_hand = $1 WHERE slug = $2")
        .bind(on_hand)
        .bind(slug)
        .execute(&app.state.db.pool)
        .await
        .expect("stock set");
}
