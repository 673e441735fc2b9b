//! The account page (`/account`) and what it changes (issue 21): the address (re-verified, the old
//! one told), the password (the current one required), the signed-in sessions; the link that
//! verifies an address; and the owner's data, exported or erased.
//!
//! Every change asks for the current password and goes through the sign-in limits
//! (`AuthRateLimiter::check_login`), so a stolen session alone cannot take the account over, nor
//! guess the password through these forms faster than through sign-in.

mod export;
mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use export::*;
pub use pages::{AccountDeletedPage, AccountPage, UnverifiedNotice, VerifyEmailPage};

use crate::components::FieldMessage;
use leptos::prelude::*;

pub const WRONG_PASSWORD: &str = "That is not your current password.";
pub const ADDRESS_TAKEN: &str =
    "Another account uses this address. Sign in to that account, or choose another address.";
pub const SAME_ADDRESS: &str = "This is the address your account already uses.";
/// "Download my data" (a plain route: a server function answers a browser's GET with a redirect).
pub const DATA_EXPORT_PATH: &str = "/account/my-data.json";

/// The account forms' own messages; their pages also show sign-up's (`AUTH_FORM_MESSAGES`: the
/// address and password rules, dead links) and the common ones.
pub const ACCOUNT_FORM_MESSAGES: &[FieldMessage] = &[
    (WRONG_PASSWORD, Some("current_password")),
    (ADDRESS_TAKEN, Some("email")),
    (SAME_ADDRESS, Some("email")),
    (crate::shop::PAYMENT_IN_PROGRESS, None),
];

/// Follows a verification link (a POST from the page the link opens, so that a mail scanner's GET
/// spends nothing): the address is verified, a changed one applied, and the browser signed in.
#[server(prefix = "/api", endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<(), ServerFnError> {
    crate::error::server_fn(ssr::verify_email(token)).await
}

/// Mails a new verification link to the signed-in user's address.
#[server(prefix = "/api", endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<(), ServerFnError> {
    crate::error::server_fn(ssr::resend_verification()).await
}

/// Starts a change of address: a link goes to the new one, which is applied once followed.
#[server(prefix = "/api", endpoint = "change_email")]
pub async fn change_email(email: String, current_password: String) -> Result<(), ServerFnError> {
    let kept = email.clone();
    let body = ssr::change_email(email, current_password);
    crate::error::server_fn(crate::request::keeping_fields(&[("email", &kept)], body)).await
}

/// Sets a new password; every other session of the account ends.
#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    password: String,
) -> Result<(), ServerFnError> {
    crate::error::server_fn(ssr::change_password(current_password, password)).await
}

/// Ends every session of the account but this browser's.
#[server(prefix = "/api", endpoint = "sign_out_others")]
pub async fn sign_out_others(current_password: String) -> Result<(), ServerFnError> {
    crate::error::server_fn(ssr::sign_out_others(current_password)).await
}

/// Deletes the account (the current password required): see `ssr::data` for what is kept and why.
#[server(prefix = "/api", endpoint = "delete_account")]
pub async fn delete_account(current_password: String) -> Result<(), ServerFnError> {
    crate::error::server_fn(ssr::data::delete_account(current_password)).await
}
