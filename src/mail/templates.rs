//! The mails' words: plain data in, a `Mail` out, with a plain-text and an HTML part saying the
//! same. Every value is escaped in the HTML; styles are inline and nothing is loaded from elsewhere
//! (mail clients block remote resources and most `<style>` blocks). Links are absolute: the caller
//! builds them from the app's URL (`Config::url`).

mod account;

pub use account::{
    AccountDeleted, AccountExists, EmailChanged, PasswordChanged, SingleUseLink, account_deleted,
    account_exists, email_changed, password_changed, password_reset, verify_email,
};

use super::{Mail, MailKind};
use crate::domain::{Email, Money};
use std::fmt::Write;

pub struct ReceiptLine {
    pub name: String,
    pub quantity: i64,
    pub unit_amount: Money,
    pub line_total: Money,
}

pub struct OrderReceipt {
    pub order_id: i64,
    pub to: Email,
    pub lines: Vec<ReceiptLine>,
    /// Subtotal, discount, shipping and tax as Stripe charged them, label and amount, in order.
    pub charges: Vec<(String, String)>,
    pub total: Money,
    /// The shipping address, one line each; empty for downloads.
    pub ship_to: Vec<String>,
    pub order_url: String,
    pub dashboard_url: String,
    pub stripe_receipt_url: Option<String>,
}

pub struct Welcome {
    pub to: Email,
    pub plan_name: String,
    /// Zero for a trial's first invoice.
    pub amount_paid: Money,
    pub invoice_id: String,
    pub invoice_url: Option<String>,
    pub dashboard_url: String,
}

pub struct PaymentFailed {
    pub to: Email,
    /// None for an invoice of no subscription we know.
    pub plan_name: Option<String>,
    pub amount_due: Money,
    pub invoice_id: String,
    /// The dashboard, whose "Manage billing" opens the billing portal.
    pub update_card_url: String,
}

pub struct TrialEnding {
    pub to: Email,
    pub plan_name: String,
    /// Unix seconds.
    pub trial_end: i64,
    pub subscription_id: String,
    pub dashboard_url: String,
}

pub fn order_receipt(receipt: OrderReceipt) -> Mail {
    let id = receipt.order_id;
    let mut text = format!("Thank you for your order #{id}.\n\n");
    let mut rows = String::new();
    for line in &receipt.lines {
        let each = line.unit_amount.format();
        let total = line.line_total.format();
        let _ = writeln!(
            text,
            "  {} x {}: {total} ({each} each)",
            line.quantity, line.name
        );
        let _ = write!(
            rows,
            "<tr><td style=\"{CELL}\">{} &times; {}</td><td style=\"{CELL}text-align:right\">{}</td></tr>",
            line.quantity,
            escape(&line.name),
            escape(&total)
        );
    }
    text.push('\n');
    for (label, amount) in &receipt.charges {
        let _ = writeln!(text, "{label}: {amount}");
        let _ = write!(
            rows,
            "<tr><td style=\"{CELL}\">{}</td><td style=\"{CELL}text-align:right\">{}</td></tr>",
            escape(label),
            escape(amount)
        );
    }
    let total = receipt.total.format();
    let _ = writeln!(text, "Total: {total}");
    let mut ship_to = String::new();
    if !receipt.ship_to.is_empty() {
        let _ = writeln!(text, "\nShipping to:\n  {}", receipt.ship_to.join("\n  "));
        let lines: Vec<String> = receipt.ship_to.iter().map(|l| escape(l)).collect();
        ship_to = paragraph(&format!(
            "<strong>Shipping to</strong><br>{}",
            lines.join("<br>")
        ));
    }
    let _ = write!(
        text,
        "\nYour order: {}\nYour account: {}\n",
        receipt.order_url, receipt.dashboard_url
    );
    let _ = write!(
        rows,
        "<tr><td style=\"{CELL}font-weight:bold\">Total</td>\
         <td style=\"{CELL}text-align:right;font-weight:bold\">{}</td></tr>",
        escape(&total)
    );
    let mut links = vec![
        link(&receipt.order_url, "View your order"),
        link(&receipt.dashboard_url, "Your account"),
    ];
    if let Some(url) = receipt
        .stripe_receipt_url
        .as_deref()
        .filter(|u| is_web_url(u))
    {
        let _ = writeln!(text, "Payment receipt: {url}");
        links.push(link(url, "Payment receipt"));
    }
    let body = format!(
        "{}<table style=\"border-collapse:collapse;width:100%;margin:16px 0\">{rows}</table>{ship_to}{}",
        paragraph(&format!("Thank you for your order #{id}.")),
        paragraph(&links.join(" &middot; "))
    );
    Mail {
        kind: MailKind::OrderReceipt,
        dedupe_key: format!("receipt:order:{id}"),
        subject: format!("Your receipt for order #{id}"),
        html: page(&format!("Order #{id}"), &body),
        text,
        to: receipt.to,
    }
}

pub fn welcome(welcome: Welcome) -> Mail {
    let plan = &welcome.plan_name;
    let charged = if welcome.amount_paid.amount > 0 {
        format!(
            "We received your payment of {}.",
            welcome.amount_paid.format()
        )
    } else {
        "Your trial has started: nothing was charged today.".to_owned()
    };
    let intro = format!("Welcome! Your {plan} subscription is active. {charged}");
    let mut text = format!(
        "{intro}\n\nManage your plan and billing from your account: {}\n",
        welcome.dashboard_url
    );
    let mut links = vec![link(&welcome.dashboard_url, "Your account")];
    if let Some(url) = welcome.invoice_url.as_deref().filter(|u| is_web_url(u)) {
        let _ = writeln!(text, "Invoice: {url}");
        links.push(link(url, "Invoice"));
    }
    let body = format!(
        "{}{}",
        paragraph(&escape(&intro)),
        paragraph(&links.join(" &middot; "))
    );
    Mail {
        kind: MailKind::Welcome,
        dedupe_key: format!("welcome:invoice:{}", welcome.invoice_id),
        subject: format!("Welcome to {plan}"),
        html: page(&format!("Welcome to {plan}"), &body),
        text,
        to: welcome.to,
    }
}

pub fn payment_failed(failed: PaymentFailed) -> Mail {
    let amount = failed.amount_due.format();
    let what = failed
        .plan_name
        .as_deref()
        .map_or("your subscription".to_owned(), |plan| {
            format!("your {plan} subscription")
        });
    let intro = format!(
        "We could not charge your card {amount} for {what}. We will try again over the next days; \
         to keep your access, please update your card."
    );
    let how = "Open your account and choose \u{201c}Manage billing\u{201d}.";
    let text = format!("{intro}\n\n{how}\n{}\n", failed.update_card_url);
    let body = format!(
        "{}{}{}",
        paragraph(&escape(&intro)),
        paragraph(&escape(how)),
        paragraph(&button(&failed.update_card_url, "Update your card"))
    );
    Mail {
        kind: MailKind::PaymentFailed,
        dedupe_key: format!("payment_failed:invoice:{}", failed.invoice_id),
        subject: format!("Your payment of {amount} failed"),
        html: page("Your payment failed", &body),
        text,
        to: failed.to,
    }
}

pub fn trial_ending(trial: TrialEnding) -> Mail {
    let plan = &trial.plan_name;
    let date = long_date(trial.trial_end);
    let intro = format!(
        "Your {plan} trial ends on {date}. After that your subscription continues and your card is \
         charged, unless you cancel before then."
    );
    let how = "To change your plan or cancel, open your account and choose \u{201c}Manage billing\u{201d}.";
    let text = format!("{intro}\n\n{how}\n{}\n", trial.dashboard_url);
    let body = format!(
        "{}{}{}",
        paragraph(&escape(&intro)),
        paragraph(&escape(how)),
        paragraph(&button(&trial.dashboard_url, "Your account"))
    );
    Mail {
        kind: MailKind::TrialEnding,
        dedupe_key: format!("trial_ending:{}:{}", trial.subscription_id, trial.trial_end),
        subject: format!("Your {plan} trial ends on {date}"),
        html: page("Your trial ends soon", &body),
        text,
        to: trial.to,
    }
}

/// "25 November 2026", in UTC.
fn long_date(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(at) => format!("{} {} {}", at.day(), at.month(), at.year()),
        Err(_) => unix.to_string(),
    }
}

const CELL: &str = "padding:6px 0;border-bottom:1px solid #e5e7eb;";

/// The frame every mail shares: one centred column, system fonts, inline styles only.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"margin:0;padding:24px;background:#f3f4f6;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#111827\">\
         <div style=\"max-width:560px;margin:0 auto;padding:24px;background:#ffffff;border-radius:8px\">\
         <h1 style=\"font-size:20px;margin:0 0 16px\">{title}</h1>{body}\
         <p style=\"margin:24px 0 0;font-size:12px;color:#6b7280\">storefront</p></div></body></html>",
        title = escape(title)
    )
}

/// `content` is HTML already (escaped by the caller).
fn paragraph(content: &str) -> String {
    format!("<p style=\"margin:0 0 12px;line-height:1.5\">{content}</p>")
}

fn link(url: &str, label: &str) -> String {
    format!(
        "<a href=\"{}\" style=\"color:#4f46e5\">{}</a>",
        escape(url),
        escape(label)
    )
}

fn button(url: &str, label: &str) -> String {
    format!(
        "<a href=\"{}\" style=\"display:inline-block;padding:10px 16px;background:#4f46e5;color:#ffffff;\
         border-radius:6px;text-decoration:none\">{}</a>",
        escape(url),
        escape(label)
    )
}

/// Links from outside (Stripe's receipt and invoice pages) are shown only if they are web pages.
fn is_web_url(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// Escapes text for HTML content and double- or single-quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
