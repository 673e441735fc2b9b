//! The templates: keys, amounts, dates, escaping, and nothing loaded from elsewhere.

use super::*;

fn email(raw: &str) -> Email {
    Email::parse(raw).expect("valid address")
}

/// Nothing a mail client would fetch: no images, styles, scripts or frames from anywhere.
fn assert_self_contained(html: &str) {
    for remote in [
        "<img", "<link", "<script", "<style", "<iframe", "url(", "src=",
    ] {
        assert!(!html.contains(remote), "{remote} in {html}");
    }
}

fn receipt(name: &str, stripe_receipt_url: Option<&str>) -> Mail {
    order_receipt(OrderReceipt {
        order_id: 42,
        to: email("buyer@example.com"),
        lines: vec![ReceiptLine {
            name: name.to_owned(),
            quantity: 2,
            unit_amount: Money::new(950, "usd"),
            line_total: Money::new(1900, "usd"),
        }],
        charges: vec![
            ("Subtotal".into(), "$19".into()),
            ("Discount (TEN)".into(), "-$1.90".into()),
            ("Shipping (Standard)".into(), "$5".into()),
            ("Tax".into(), "$1.60".into()),
        ],
        total: Money::new(2370, "usd"),
        ship_to: vec!["Ada <Lovelace>".into(), "1 Main St".into()],
        order_url: "https://shop.example.com/orders/42".into(),
        dashboard_url: "https://shop.example.com/dashboard".into(),
        stripe_receipt_url: stripe_receipt_url.map(str::to_owned),
    })
}

#[test]
fn an_order_receipt_lists_lines_and_total_in_both_parts() {
    let mail = receipt("Mug", Some("https://pay.stripe.com/receipts/r_1"));
    assert_eq!(mail.kind, MailKind::OrderReceipt);
    assert_eq!(mail.dedupe_key, "receipt:order:42");
    assert_eq!(mail.subject, "Your receipt for order #42");
    assert_eq!(mail.to.as_str(), "buyer@example.com");
    for part in [&mail.text, &mail.html] {
        for needed in [
            "#42",
            "Mug",
            "$19",
            "https://shop.example.com/orders/42",
            "https://pay.stripe.com/receipts/r_1",
        ] {
            assert!(part.contains(needed), "{needed} missing in {part}");
        }
    }
    assert!(
        mail.text.contains("2 x Mug: $19 ($9.50 each)"),
        "{}",
        mail.text
    );
    // Issue 22: what Stripe charged, line by line, and where the parcel goes.
    for needed in [
        "Discount (TEN): -$1.90",
        "Shipping (Standard): $5",
        "Tax: $1.60",
        "Total: $23.70",
        "Shipping to:\n  Ada <Lovelace>\n  1 Main St",
    ] {
        assert!(
            mail.text.contains(needed),
            "{needed} missing in {}",
            mail.text
        );
    }
    assert!(
        mail.html.contains("Ada &lt;Lovelace&gt;<br>1 Main St"),
        "{}",
        mail.html
    );
    assert_self_contained(&mail.html);
}

#[test]
fn values_are_escaped_and_foreign_links_must_be_web_pages() {
    let mail = receipt("<b>Mug</b> & \"Co\"", Some("javascript:alert(1)"));
    assert!(
        mail.html
            .contains("&lt;b&gt;Mug&lt;/b&gt; &amp; &quot;Co&quot;"),
        "{}",
        mail.html
    );
    assert!(!mail.html.contains("<b>Mug"));
    assert!(!mail.html.contains("javascript:") && !mail.text.contains("javascript:"));
    assert_eq!(escape("'<&>\""), "&#39;&lt;&amp;&gt;&quot;");
}

#[test]
fn welcome_says_what_was_paid_or_that_a_trial_began() {
    let paid = welcome(Welcome {
        to: email("ada@example.com"),
        plan_name: "Pro".into(),
        amount_paid: Money::new(2900, "usd"),
        invoice_id: "in_1".into(),
        invoice_url: Some("https://invoice.stripe.com/i/in_1".into()),
        dashboard_url: "http://127.0.0.1:3000/dashboard".into(),
    });
    assert_eq!(paid.dedupe_key, "welcome:invoice:in_1");
    assert_eq!(paid.subject, "Welcome to Pro");
    assert!(paid.text.contains("payment of $29"), "{}", paid.text);
    assert!(
        paid.html
            .contains("href=\"http://127.0.0.1:3000/dashboard\"")
    );
    assert_self_contained(&paid.html);
    let trial = welcome(Welcome {
        to: email("ada@example.com"),
        plan_name: "Pro".into(),
        amount_paid: Money::new(0, "usd"),
        invoice_id: "in_2".into(),
        invoice_url: None,
        dashboard_url: "http://127.0.0.1:3000/dashboard".into(),
    });
    assert!(trial.text.contains("trial has started"), "{}", trial.text);
    assert!(!trial.text.contains("Invoice:"));
}

#[test]
fn payment_failed_names_the_amount_and_where_to_update_the_card() {
    let mail = payment_failed(PaymentFailed {
        to: email("ada@example.com"),
        plan_name: None,
        amount_due: Money::new(900, "usd"),
        invoice_id: "in_9".into(),
        update_card_url: "https://shop.example.com/dashboard".into(),
    });
    assert_eq!(mail.dedupe_key, "payment_failed:invoice:in_9");
    assert_eq!(mail.subject, "Your payment of $9 failed");
    assert!(mail.text.contains("your subscription") && mail.text.contains("Manage billing"));
    assert!(
        mail.html
            .contains("href=\"https://shop.example.com/dashboard\"")
    );
    assert_self_contained(&mail.html);
}

#[test]
fn trial_ending_shows_the_date_in_words() {
    let mail = trial_ending(TrialEnding {
        to: email("ada@example.com"),
        plan_name: "Pro".into(),
        // 25 November 2026, 15:30 UTC
        trial_end: 1_795_620_600,
        subscription_id: "sub_1".into(),
        dashboard_url: "https://shop.example.com/dashboard".into(),
    });
    assert_eq!(mail.dedupe_key, "trial_ending:sub_1:1795620600");
    assert_eq!(mail.subject, "Your Pro trial ends on 25 November 2026");
    assert!(mail.html.contains("25 November 2026"));
    assert_eq!(long_date(0), "1 January 1970");
    assert_self_contained(&mail.html);
}
