//! Sign-in and sign-up throttling with `governor` (GCRA), kept in memory per instance.

use crate::domain::Email;
use crate::error::{AppError, AppResult};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

pub struct AuthRateLimiter {
    login_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_per_account: DefaultKeyedRateLimiter<String>,
    signup_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

fn quota(burst: u32, one_every: Duration) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(one_every)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl Default for AuthRateLimiter {
    fn default() -> Self {
        Self {
            // An office behind one NAT signs in a lot; an attacker guessing one account gets few tries.
            login_per_ip: RateLimiter::keyed(quota(20, Duration::from_secs(3))),
            login_per_account: RateLimiter::keyed(quota(5, Duration::from_secs(20))),
            signup_per_ip: RateLimiter::keyed(quota(10, Duration::from_secs(30))),
            clock: DefaultClock::default(),
        }
    }
}

impl AuthRateLimiter {
    pub fn check_login(&self, ip: IpAddr, email: &Email) -> AppResult<()> {
        self.check(&self.login_per_ip, &ip)?;
        self.check(&self.login_per_account, &email.to_string())
    }

    pub fn check_signup(&self, ip: IpAddr) -> AppResult<()> {
        self.check(&self.signup_per_ip, &ip)
    }

    fn check<K: std::hash::Hash + Eq + Clone>(
        &self,
        limiter: &DefaultKeyedRateLimiter<K>,
        key: &K,
    ) -> AppResult<()> {
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            AppError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }
        })
    }

    /// Forgets keys whose quota is full again, so memory stays bounded.
    pub fn forget_idle_keys(&self) {
        self.login_per_ip.retain_recent();
        self.login_per_account.retain_recent();
        self.signup_per_ip.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_is_limited_independently_of_ip() {
        let limiter = AuthRateLimiter::default();
        let email = |raw: &str| Email::parse(raw).expect("valid");
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..5 {
            assert!(limiter.check_login(ip, &email("a@example.com")).is_ok());
        }
        let other_ip: IpAddr = [10, 0, 0, 2].into();
        match limiter.check_login(other_ip, &email("a@example.com")) {
            Err(AppError::RateLimited { retry_after_secs }) => {
                assert!((1..=20).contains(&retry_after_secs))
            }
            other => panic!("expected rate limit, got {other:?}"),
        }
        assert!(
            limiter
                .check_login(other_ip, &email("b@example.com"))
                .is_ok()
        );
    }
}
