//! The account's mails (issue 21): the links that verify an address and reset a password, and the
//! notices that tell an owner what happened to their account. None says more than its reader needs:
//! a notice names no new address and no password, and every one says what to do if it was not them.

use super::{Mail, MailKind, button, escape, long_date, page, paragraph};
use crate::domain::Email;

/// A mail whose button is a single-use link (`url` holds its token).
pub struct SingleUseLink {
    pub to: Email,
    /// The link's row: names the mail in the outbox, so each link is mailed once.
    pub token_id: i64,
    pub url: String,
    /// Unix seconds.
    pub expires_at: i64,
}

pub struct AccountExists {
    pub to: Email,
    pub user_id: i64,
    /// One such notice per hour and account at most: sign-up attempts cannot flood the owner.
    pub hour: i64,
    pub login_url: String,
    pub reset_url: String,
}

pub struct EmailChanged {
    /// The old address: its owner learns that the account now answers to another.
    pub to: Email,
    pub user_id: i64,
    pub changed_at: i64,
    pub reset_url: String,
}

pub struct PasswordChanged {
    pub to: Email,
    pub user_id: i64,
    pub changed_at: i64,
    pub reset_url: String,
}

pub struct AccountDeleted {
    pub to: Email,
    pub user_id: i64,
}

const NOT_YOU: &str = "If this was not you, you can ignore this mail.";

pub fn verify_email(link: SingleUseLink) -> Mail {
    let until = expiry_text(link.expires_at);
    let intro = "Please confirm that this is your e-mail address, so that your receipts and account \
                 notices reach you.";
    single_use(
        link,
        MailKind::VerifyEmail,
        "verify",
        "Confirm your e-mail address",
        &[intro, &until, NOT_YOU],
        "Confirm my address",
    )
}

pub fn password_reset(link: SingleUseLink) -> Mail {
    let until = expiry_text(link.expires_at);
    let intro = "Someone asked to reset the password of the Storefront account for this address. \
                 Choose a new password with the link below; it works once.";
    let not_you = "If you did not ask for this, ignore this mail: your password stays as it is.";
    single_use(
        link,
        MailKind::PasswordReset,
        "reset",
        "Reset your password",
        &[intro, &until, not_you],
        "Choose a new password",
    )
}

fn expiry_text(expires_at: i64) -> String {
    let minutes = (expires_at - crate::db::now_unix()).max(60) / 60;
    if minutes >= 120 {
        format!("The link works until {} (UTC).", long_date(expires_at))
    } else {
        format!("The link works for {minutes} minutes.")
    }
}

fn single_use(
    link: SingleUseLink,
    kind: MailKind,
    key: &str,
    subject: &str,
    paragraphs: &[&str],
    action: &str,
) -> Mail {
    let text = format!("{}\n\n{}\n", paragraphs.join("\n\n"), link.url);
    let mut body: String = paragraphs
        .iter()
        .take(1)
        .map(|p| paragraph(&escape(p)))
        .collect();
    body.push_str(&paragraph(&button(&link.url, action)));
    body.extend(paragraphs.iter().skip(1).map(|p| paragraph(&escape(p))));
    body.push_str(&paragraph(&escape(&format!(
        "If the button does not work, open this address: {}",
        link.url
    ))));
    Mail {
        kind,
        dedupe_key: format!("{key}:token:{}", link.token_id),
        subject: subject.to_owned(),
        html: page(subject, &body),
        text,
        to: link.to,
    }
}

pub fn account_exists(notice: AccountExists) -> Mail {
    let intro = "Someone tried to create a Storefront account with this address, which already has one. \
                 If it was you, sign in, or reset your password if you forgot it.";
    let text = format!(
        "{intro}\n\nSign in: {}\nReset your password: {}\n\n{NOT_YOU}\n",
        notice.login_url, notice.reset_url
    );
    let body = format!(
        "{}{}{}{}",
        paragraph(&escape(intro)),
        paragraph(&button(&notice.login_url, "Sign in")),
        paragraph(&super::link(&notice.reset_url, "Reset your password")),
        paragraph(&escape(NOT_YOU)),
    );
    Mail {
        kind: MailKind::AccountExists,
        dedupe_key: format!("account_exists:{}:{}", notice.user_id, notice.hour),
        subject: "You already have an account".to_owned(),
        html: page("You already have an account", &body),
        text,
        to: notice.to,
    }
}

/// Shared by the notices of a changed address and a changed password.
fn security_notice(
    to: Email,
    kind: MailKind,
    dedupe_key: String,
    subject: &str,
    what: &str,
    reset_url: &str,
) -> Mail {
    let help = "If you did not make this change, reset your password now and tell us.";
    let text = format!("{what}\n\n{help}\n{reset_url}\n");
    let body = format!(
        "{}{}{}",
        paragraph(&escape(what)),
        paragraph(&escape(help)),
        paragraph(&button(reset_url, "Reset your password")),
    );
    Mail {
        kind,
        dedupe_key,
        subject: subject.to_owned(),
        html: page(subject, &body),
        text,
        to,
    }
}

pub fn email_changed(notice: EmailChanged) -> Mail {
    let what = format!(
        "The e-mail address of your Storefront account was changed on {} (UTC). Mail for the account \
         now goes to the new address; this address no longer signs in.",
        long_date(notice.changed_at)
    );
    security_notice(
        notice.to,
        MailKind::EmailChanged,
        format!("email_changed:{}:{}", notice.user_id, notice.changed_at),
        "Your e-mail address was changed",
        &what,
        &notice.reset_url,
    )
}

pub fn password_changed(notice: PasswordChanged) -> Mail {
    let what = format!(
        "The password of your Storefront account was changed on {} (UTC), and every other signed-in \
         browser was signed out.",
        long_date(notice.changed_at)
    );
    security_notice(
        notice.to,
        MailKind::PasswordChanged,
        format!("password_changed:{}:{}", notice.user_id, notice.changed_at),
        "Your password was changed",
        &what,
        &notice.reset_url,
    )
}

pub fn account_deleted(notice: AccountDeleted) -> Mail {
    let intro = "Your Storefront account was deleted, as you asked. Your subscriptions were cancelled \
                 and your personal data erased; the records of your orders and invoices are kept, \
                 without your name or address, for as long as bookkeeping law requires.";
    let after = "You can sign up again with this address at any time.";
    Mail {
        kind: MailKind::AccountDeleted,
        dedupe_key: format!("account_deleted:{}", notice.user_id),
        subject: "Your account was deleted".to_owned(),
        html: page(
            "Your account was deleted",
            &format!("{}{}", paragraph(&escape(intro)), paragraph(&escape(after))),
        ),
        text: format!("{intro}\n\n{after}\n"),
        to: notice.to,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to() -> Email {
        Email::parse("ada@example.com").expect("an address")
    }

    #[test]
    fn a_link_mail_carries_its_link_in_both_parts_escaped_in_html() {
        let url = "http://127.0.0.1:3000/reset-password?token=abc&x=<y>".to_owned();
        let mail = password_reset(SingleUseLink {
            to: to(),
            token_id: 7,
            url: url.clone(),
            expires_at: crate::db::now_unix() + 1800,
        });
        assert_eq!(mail.dedupe_key, "reset:token:7");
        assert!(mail.text.contains(&url));
        assert!(mail.text.contains("30 minutes"), "{}", mail.text);
        assert!(mail.html.contains("token=abc&amp;x=&lt;y&gt;"));
        assert!(!mail.html.contains("<y>"));
    }

    #[test]
    fn an_account_exists_notice_is_one_per_hour() {
        let notice = |hour| {
            account_exists(AccountExists {
                to: to(),
                user_id: 3,
                hour,
                login_url: "http://x/login".into(),
                reset_url: "http://x/forgot-password".into(),
            })
        };
        assert_eq!(notice(10).dedupe_key, notice(10).dedupe_key);
        assert_ne!(notice(10).dedupe_key, notice(11).dedupe_key);
    }
}
