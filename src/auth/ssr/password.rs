//! Password hashing (argon2id with the crate's OWASP-recommended defaults) and the password policy.

use crate::auth::MIN_PASSWORD_CHARS;
use crate::config::PasswordHashing;
use crate::domain::Email;
use crate::error::{AppError, AppResult};
use argon2::password_hash::{PasswordHash, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio::sync::Semaphore;

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

/// Bounds how many Argon2 runs happen at once (each holds 19 MiB and a core). A request that cannot
/// get a turn within `max_wait` is answered 503 with `Retry-After`, so a flood of sign-ins queues
/// neither memory nor blocking threads without bound.
pub struct HashingGate {
    permits: Arc<Semaphore>,
    max_wait: Duration,
}

impl HashingGate {
    pub fn new(limits: PasswordHashing) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limits.concurrency)),
            max_wait: limits.max_wait,
        }
    }

    /// Runs CPU-bound work off the async executor once a permit is free, inside the caller's span so
    /// its logs keep the request.
    async fn run<T: Send + 'static>(
        &self,
        what: &'static str,
        work: impl FnOnce() -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        let busy = || AppError::Busy {
            retry_after_secs: self.max_wait.as_secs().max(1),
        };
        let permit = tokio::time::timeout(self.max_wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| {
                tracing::warn!(what, "password hashing at capacity; answered 503");
                busy()
            })?
            .map_err(|_| busy())?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(work)
        })
        .await
        .map_err(|e| AppError::Internal(format!("{what} task failed: {e}")))?
    }

    pub async fn hash(&self, password: String) -> AppResult<String> {
        self.run("hashing", move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
        })
        .await
    }

    /// Verifies against `hash`, or against a dummy hash when there is no account (`None`), so that the
    /// time taken does not reveal which e-mails have accounts.
    pub async fn verify(&self, password: String, hash: Option<String>) -> AppResult<bool> {
        self.run("verify", move || {
            let hash = hash.unwrap_or_else(|| dummy_hash().to_owned());
            let parsed = PasswordHash::new(&hash)
                .map_err(|e| AppError::Internal(format!("stored hash unreadable: {e}")))?;
            Ok(Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await
    }
}

/// A real hash of a random password, verified against when an e-mail has no account.
fn dummy_hash() -> &'static str {
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

    /// L9: the form shows only listed messages, so each one raised here must be listed.
    #[test]
    fn l9_every_sign_up_message_is_a_known_form_message() {
        let email = Email::parse("grace@example.com").expect("valid");
        let long = "x".repeat(MAX_PASSWORD_BYTES + 1) + "y";
        for password in [
            "short",
            "Password123",
            "zzzzzzzzzzzz",
            "grace-2026-x",
            long.as_str(),
        ] {
            let Err(error) = validate_password(password, &email) else {
                panic!("{password:?} accepted");
            };
            let message = error.public_message();
            assert!(
                crate::auth::AUTH_FORM_MESSAGES
                    .iter()
                    .any(|(listed, _)| *listed == message),
                "{message:?} is not listed"
            );
        }
        let invalid_email = AppError::Invalid(
            Email::parse("not an address")
                .expect_err("invalid")
                .to_string(),
        );
        let message = invalid_email.public_message();
        assert!(
            crate::auth::AUTH_FORM_MESSAGES
                .iter()
                .any(|(listed, _)| *listed == message)
        );
    }

    fn gate(concurrency: usize, max_wait_ms: u64) -> HashingGate {
        HashingGate::new(PasswordHashing {
            concurrency,
            max_wait: Duration::from_millis(max_wait_ms),
        })
    }

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let gate = gate(2, 1000);
        let hash = gate
            .hash("correct horse battery".into())
            .await
            .expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(
            gate.verify("correct horse battery".into(), Some(hash.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !gate
                .verify("correct horse battery!".into(), Some(hash))
                .await
                .expect("verify")
        );
        assert!(!gate.verify("x".into(), None).await.expect("dummy verify"));
        assert!(dummy_hash().starts_with("$argon2id$"));
    }

    /// Security review M1: a full gate answers Busy at once instead of queueing.
    #[tokio::test]
    async fn m1_a_full_gate_answers_busy_with_retry_after() {
        let gate = gate(1, 0);
        let _held = gate.permits.clone().acquire_owned().await.expect("permit");
        match gate.hash("correct horse battery".into()).await {
            Err(AppError::Busy { retry_after_secs }) => assert!(retry_after_secs >= 1),
            other => panic!("expected Busy, got {other:?}"),
        }
    }
}
