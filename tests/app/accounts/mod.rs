//! Issue 21: the account basics over HTTP against the real app, database and SMTP server. Every
//! mail is read back from maildev and its link followed as a person would.

mod erasure;
mod forms;
mod recovery;
mod settings;
mod signup;

use crate::helpers::{BROWSER_ACCEPT, TestApp, form_error, location};

/// Posts a form as a browser without JavaScript does, and returns the error its redirect carries
/// back to `from_page` (`None` when it succeeded).
async fn form_error_of(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
    from_page: &str,
    form: &[(&str, &str)],
) -> (reqwest::Response, Option<String>) {
    let response = app.post_form(browser, path, from_page, form).await;
    let error = form_error(&location(&response));
    (response, error)
}

/// Whether `browser` is signed in (its dashboard renders rather than sending it to sign-in).
async fn signed_in(app: &TestApp, browser: &reqwest::Client) -> bool {
    let response = browser
        .get(app.url("/dashboard"))
        .header("accept", BROWSER_ACCEPT)
        .send()
        .await
        .expect("request");
    response.status() == 200
}
