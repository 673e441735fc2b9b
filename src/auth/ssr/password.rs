//! Password hashing (argon2id with the crate's OWASP-recommended defaults) and the password policy.

use crate::auth::MIN_PASSWORD_CHARS;
use crate::domain::Email;
use crate::error::{AppError, AppResult};
use argon2::password_hash::{PasswordHash, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use std::sync::LazyLock;

/// argon2 accepts any length; the cap keeps a single request from costing unbounded CPU.
const MAX_PASSWORD_BYTES: usize = 1024;

/// The most common leaked passwords of 10 or more characters; anything here is refused outright.
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "0123456789",
    "0987654321",
    "qwertyuiop",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "password12",
    "password123",
    "password1234",
    "passw0rd123",
    "iloveyou12",
    "qwerty1234",
    "qwerty12345",
    "qwerty123456",
    "1234567890a",
    "abcdefghij",
    "abc1234567",
    "aaaaaaaaaa",
    "letmein123",
    "welcome123",
    "admin12345",
    "football123",
    "baseball123",
    "sunshine123",
    "princess123",
    "starwars123",
    "trustno1234",
    "changeme123",
    "monkey12345",
    "dragon12345",
];

pub fn validate_password(password: &str, email: &Email) -> AppResult<()> {
    let weak = |why: &str| {
        Err(AppError::Invalid(format!(
            "This password is too weak: {why}"
        )))
    };
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return weak(&format!("use at least {MIN_PASSWORD_CHARS} characters."));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::Invalid(format!(
            "Use a password of at most {MAX_PASSWORD_BYTES} bytes."
        )));
    }
    let lower = password.to_lowercase();
    if COMMON_PASSWORDS.contains(&lower.as_str()) {
        return weak("it is one of the most common passwords.");
    }
    let mut chars = lower.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return weak("it repeats a single character.");
    }
    let local_part = email.local_part();
    if local_part.len() >= 4 && lower.contains(local_part) {
        return weak("it contains your e-mail address.");
    }
    Ok(())
}

/// Runs CPU-bound work off the async executor, inside the caller's span so its logs keep the request.
async fn blocking<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work))
        .await
        .map_err(|e| AppError::Internal(format!("{what} task failed: {e}")))?
}

/// Hashing is CPU-bound (tens of milliseconds), so it runs off the async executor.
pub async fn hash_password(password: String) -> AppResult<String> {
    blocking("hashing", move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
    })
    .await
}

pub async fn verify_password(password: String, hash: String) -> AppResult<bool> {
    blocking("verify", move || {
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| AppError::Internal(format!("stored hash unreadable: {e}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
}

/// A real hash of a random password, verified against when an e-mail has no account.
pub fn dummy_hash() -> &'static str {
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(salt.as_str().as_bytes(), &salt)
            .map(|h| h.to_string())
            .expect("argon2 hashes with its default parameters and a fresh salt")
    });
    &DUMMY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        let email = Email::parse("grace@example.com").expect("valid");
        let message = |pw: &str| match validate_password(pw, &email) {
            Err(AppError::Invalid(m)) => m,
            other => panic!("{pw:?}: expected Invalid, got {other:?}"),
        };
        assert!(message("short").contains("at least 10"));
        assert!(message("Password123").contains("most common"));
        assert!(message("zzzzzzzzzzzz").contains("single character"));
        assert!(message("grace-2026-x").contains("e-mail"));
        assert!(validate_password("correct horse battery", &email).is_ok());
    }

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let hash = hash_password("correct horse battery".into())
            .await
            .expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(
            verify_password("correct horse battery".into(), hash.clone())
                .await
                .expect("verify")
        );
        assert!(
            !verify_password("correct horse battery!".into(), hash)
                .await
                .expect("verify")
        );
        assert!(dummy_hash().starts_with("$argon2id$"));
    }
}
