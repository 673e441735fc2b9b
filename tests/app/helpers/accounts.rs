//! The account's mailed links, followed as a person does: the link from the mail's text part, its
//! page, then the page's one form.

use super::{ReceivedMail, TestApp, get_url};

impl TestApp {
    /// Like `exactly_mails_to` for an address that signed up: its first mail is the link that
    /// confirms the address (issue 21); the `count` mails after it are returned.
    pub async fn mails_after_sign_up(&self, address: &str, count: usize) -> Vec<ReceivedMail> {
        let mut mails = self.exactly_mails_to(address, count + 1).await;
        assert_eq!(mails[0].subject, "Confirm your e-mail address");
        mails.remove(0);
        mails
    }
}

/// The link in `mail`'s text part that starts with `prefix` (`http://…/verify-email?token=`).
pub fn mail_link(mail: &ReceivedMail, prefix: &str) -> String {
    let start = mail
        .text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} link in {:?}", mail.text));
    mail.text[start..]
        .split_whitespace()
        .next()
        .expect("a link")
        .to_owned()
}

/// The `token` query value of a mailed link.
pub fn token_of(link: &str) -> String {
    link.split_once("token=")
        .map(|(_, token)| token.to_owned())
        .expect("a token in the link")
}

/// Opens a verification link's page, then confirms it as its button does.
pub async fn follow_verification_link(
    app: &TestApp,
    browser: &reqwest::Client,
    link: &str,
) -> reqwest::Response {
    let page = get_url(browser, link).await;
    assert_eq!(page.status(), 200, "GET {link}");
    let from_page = link.trim_start_matches(&app.base).to_owned();
    app.post_form(
        browser,
        "/api/verify_email",
        &from_page,
        &[("token", &token_of(link))],
    )
    .await
}
