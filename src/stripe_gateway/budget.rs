//! The per-user Stripe budget (security review M2): one account must not be able to spend the Stripe
//! account's API rate limit, which every checkout, payment, portal visit and webhook shares. Billing
//! and the shop count their user-triggered Stripe calls against the same budget.

use crate::domain::UserId;
use crate::error::{AppError, AppResult};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// Generous for a person (ten clicks at once, then one every three seconds), far below what would
/// hurt Stripe's 25 (test) or 100 (live) requests per second.
const BURST: u32 = 10;
const ONE_EVERY: Duration = Duration::from_secs(3);

pub struct StripeBudget {
    per_user: DefaultKeyedRateLimiter<UserId>,
    /// Guests (issue 22) have no account: their budget is their address's.
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl Default for StripeBudget {
    fn default() -> Self {
        let quota = Quota::with_period(ONE_EVERY)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(BURST).unwrap_or(NonZeroU32::MIN));
        Self {
            per_user: RateLimiter::keyed(quota),
            per_address: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }
}

impl StripeBudget {
    /// One action of `user_id` that calls Stripe (checkout, portal, paying, a success-page sync), or 429.
    pub fn check(&self, user_id: UserId) -> AppResult<()> {
        self.per_user
            .check_key(&user_id)
            .map_err(|not_until| self.limited(not_until))
    }

    /// One action of a signed-out visitor at `address` that calls Stripe (a guest checkout), or 429.
    pub fn check_address(&self, address: IpAddr) -> AppResult<()> {
        self.per_address
            .check_key(&address)
            .map_err(|not_until| self.limited(not_until))
    }

    fn limited(&self, not_until: governor::NotUntil<<DefaultClock as Clock>::Instant>) -> AppError {
        let wait = not_until.wait_time_from(self.clock.now());
        AppError::RateLimited {
            retry_after_secs: wait.as_secs().max(1),
        }
    }

    /// Forgets users whose quota is full again, so memory stays bounded.
    pub fn forget_idle_keys(&self) {
        self.per_user.retain_recent();
        self.per_address.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Security review M2: a loop of Stripe actions by one user stops at the burst; others are unaffected.
    #[test]
    fn m2_one_user_is_limited_without_limiting_another() {
        let limits = StripeBudget::default();
        let (loop_user, other) = (UserId::new(1), UserId::new(2));
        for _ in 0..BURST {
            assert!(limits.check(loop_user).is_ok());
        }
        assert!(matches!(
            limits.check(loop_user),
            Err(AppError::RateLimited { .. })
        ));
        assert!(limits.check(other).is_ok());
    }
}
