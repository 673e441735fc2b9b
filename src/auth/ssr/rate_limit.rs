//! Sign-in and sign-up throttling with `governor` (GCRA), kept in memory per instance.

use crate::domain::Email;
use crate::error::{AppError, AppResult};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::time::Duration;

pub struct AuthRateLimiter {
    login_per_client: DefaultKeyedRateLimiter<IpAddr>,
    /// Guesses at one account from one client: a lockout by one address hits only that address.
    login_per_account_and_client: DefaultKeyedRateLimiter<(String, IpAddr)>,
    /// All guesses at one account. Looser than one client's own limit can spend, so no single
    /// address can lock the owner out.
    login_per_account: DefaultKeyedRateLimiter<String>,
    signup_per_client: DefaultKeyedRateLimiter<IpAddr>,
    /// Sessions made for visitors without one (a first cart item): each is a stored row for 14 days.
    new_session_per_client: DefaultKeyedRateLimiter<IpAddr>,
    /// Mails sent on request (a reset link, a new verification link): each lands in someone's inbox,
    /// so both the client asking and the address mailed are limited (issue 21).
    mail_per_client: DefaultKeyedRateLimiter<IpAddr>,
    mail_per_address: DefaultKeyedRateLimiter<String>,
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
            login_per_client: RateLimiter::keyed(quota(20, Duration::from_secs(3))),
            login_per_account_and_client: RateLimiter::keyed(quota(5, Duration::from_secs(20))),
            // One client refills at most one try per 3 s, slower than this refills: it cannot empty it.
            login_per_account: RateLimiter::keyed(quota(50, Duration::from_secs(2))),
            signup_per_client: RateLimiter::keyed(quota(10, Duration::from_secs(30))),
            // A household behind one address starts a few carts; a script starts thousands.
            new_session_per_client: RateLimiter::keyed(quota(20, Duration::from_secs(3))),
            // A person who mistyped asks again a few times; nobody needs more than one a minute after.
            mail_per_client: RateLimiter::keyed(quota(10, Duration::from_secs(60))),
            // Three links to one address, then one every 20 minutes: an inbox cannot be flooded.
            mail_per_address: RateLimiter::keyed(quota(3, Duration::from_secs(20 * 60))),
            clock: DefaultClock::default(),
        }
    }
}

/// The key of a client: its IPv4 address, or its IPv6 /64 (one subscriber's network; addresses inside
/// it are free to rotate).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(network))
        }
    }
}

impl AuthRateLimiter {
    pub fn check_login(&self, ip: IpAddr, email: &Email) -> AppResult<()> {
        let client = client_key(ip);
        self.check(&self.login_per_client, &client)?;
        self.check(
            &self.login_per_account_and_client,
            &(email.to_string(), client),
        )?;
        self.check(&self.login_per_account, &email.to_string())
    }

    pub fn check_signup(&self, ip: IpAddr) -> AppResult<()> {
        self.check(&self.signup_per_client, &client_key(ip))
    }

    pub fn check_new_session(&self, ip: IpAddr) -> AppResult<()> {
        self.check(&self.new_session_per_client, &client_key(ip))
    }

    /// Before a mail asked for by a request (a reset link, a verification link) goes to `to`. The
    /// answer is the same whether or not the address has an account.
    pub fn check_mail(&self, ip: IpAddr, to: &Email) -> AppResult<()> {
        self.check(&self.mail_per_client, &client_key(ip))?;
        self.check(&self.mail_per_address, &to.to_string())
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
        self.login_per_client.retain_recent();
        self.login_per_account_and_client.retain_recent();
        self.login_per_account.retain_recent();
        self.signup_per_client.retain_recent();
        self.new_session_per_client.retain_recent();
        self.mail_per_client.retain_recent();
        self.mail_per_address.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_cannot_lock_an_account_for_everyone() {
        let limiter = AuthRateLimiter::default();
        let email = |raw: &str| Email::parse(raw).expect("valid");
        let attacker: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..5 {
            assert!(
                limiter
                    .check_login(attacker, &email("a@example.com"))
                    .is_ok()
            );
        }
        match limiter.check_login(attacker, &email("a@example.com")) {
            Err(AppError::RateLimited { retry_after_secs }) => {
                assert!((1..=20).contains(&retry_after_secs))
            }
            other => panic!("expected rate limit, got {other:?}"),
        }
        let owner: IpAddr = [10, 0, 0, 2].into();
        assert!(limiter.check_login(owner, &email("a@example.com")).is_ok());
        assert!(
            limiter
                .check_login(attacker, &email("b@example.com"))
                .is_ok()
        );
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        let v4: IpAddr = [192, 0, 2, 1].into();
        assert_eq!(client_key(v4), v4);
    }
}
