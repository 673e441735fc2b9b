//! The access policy (security review M4): which subscriptions grant their tier, and until when.
//!
//! - `active` grants until the end of the paid period, `trialing` until the trial ends; each plus
//!   `RENEWAL_SLACK`, the time Stripe needs to renew and tell us.
//! - `past_due` grants for `PAST_DUE_GRACE` from the start of the unpaid period, and only to a
//!   subscription that has paid at least once (a trial whose first charge fails gets nothing).
//! - `unpaid`, `incomplete`, `incomplete_expired`, `paused` and `canceled` never grant.
//! - Several subscriptions, or several items in one: the highest tier wins.
//!
//! The end is stored with the role (`users.access_until`) and enforced when the role is read, so a
//! lost webhook ends access on time; reconciliation re-reads such customers from Stripe.

use super::{Role, SubscriptionStatus};

pub const RENEWAL_SLACK_SECS: i64 = 24 * 3600;
pub const PAST_DUE_GRACE_SECS: i64 = 7 * 24 * 3600;

/// What the policy needs to know of one subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionTerms {
    pub status: SubscriptionStatus,
    /// The highest tier among its items' products (None: no item's product grants a role).
    pub tier: Option<Role>,
    pub current_period_start: Option<i64>,
    pub current_period_end: Option<i64>,
    pub trial_end: Option<i64>,
    /// At least one of its invoices was paid with money.
    pub has_paid: bool,
}

/// A role and the time it stops granting access (None: no end, as for `Free`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub role: Role,
    pub until: Option<i64>,
}

impl Access {
    pub const FREE: Access = Access {
        role: Role::Free,
        until: None,
    };
}

impl SubscriptionTerms {
    /// Until when this subscription grants its tier; None when it grants nothing. An end Stripe did
    /// not give us (an old API version) means "until Stripe says otherwise".
    fn grants_until(&self) -> Option<Option<i64>> {
        let slack = |end: Option<i64>| Some(end.map(|t| t + RENEWAL_SLACK_SECS));
        match self.status {
            SubscriptionStatus::Active => slack(self.current_period_end),
            SubscriptionStatus::Trialing => slack(self.trial_end.or(self.current_period_end)),
            SubscriptionStatus::PastDue if self.has_paid => {
                Some(self.current_period_start.map(|t| t + PAST_DUE_GRACE_SECS))
            }
            _ => None,
        }
    }
}

/// The access `subscriptions` grant at `now`: the highest tier still granted, and when it ends.
pub fn access_at(subscriptions: impl IntoIterator<Item = SubscriptionTerms>, now: i64) -> Access {
    subscriptions
        .into_iter()
        .filter_map(|terms| Some((terms.tier?, terms.grants_until()?)))
        .filter(|(_, until)| until.is_none_or(|t| t > now))
        .map(|(role, until)| Access { role, until })
        // Highest tier first; for one tier, the later end (None, no end, counts as latest).
        .max_by_key(|a| (a.role, a.until.is_none(), a.until))
        .unwrap_or(Access::FREE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubscriptionStatus as S;

    const NOW: i64 = 1_800_000_000;
    const DAY: i64 = 24 * 3600;

    fn terms(status: SubscriptionStatus, tier: Role) -> SubscriptionTerms {
        SubscriptionTerms {
            status,
            tier: Some(tier),
            current_period_start: Some(NOW - 10 * DAY),
            current_period_end: Some(NOW + 20 * DAY),
            trial_end: None,
            has_paid: true,
        }
    }

    #[test]
    fn active_and_trialing_grant_until_their_end_plus_slack() {
        let active = access_at([terms(S::Active, Role::Basic)], NOW);
        assert_eq!(active.role, Role::Basic);
        assert_eq!(active.until, Some(NOW + 20 * DAY + RENEWAL_SLACK_SECS));
        let trial = SubscriptionTerms {
            trial_end: Some(NOW + 3 * DAY),
            has_paid: false,
            ..terms(S::Trialing, Role::Pro)
        };
        assert_eq!(
            access_at([trial], NOW).until,
            Some(NOW + 3 * DAY + RENEWAL_SLACK_SECS)
        );
    }

    /// Security review M4 (scenario B): a lost renewal webhook does not keep the tier forever.
    #[test]
    fn m4_an_active_subscription_whose_period_ended_long_ago_grants_nothing() {
        let stale = SubscriptionTerms {
            current_period_end: Some(NOW - 2 * DAY),
            ..terms(S::Active, Role::Pro)
        };
        assert_eq!(access_at([stale], NOW), Access::FREE);
    }

    /// Security review M4 (scenario A): a trial whose first charge fails is not Pro while Stripe retries.
    #[test]
    fn m4_past_due_grants_only_within_the_grace_period_and_only_after_a_payment() {
        let paid_before = SubscriptionTerms {
            current_period_start: Some(NOW - 2 * DAY),
            ..terms(S::PastDue, Role::Pro)
        };
        assert_eq!(access_at([paid_before], NOW).role, Role::Pro);
        assert_eq!(
            access_at([paid_before], NOW).until,
            Some(NOW - 2 * DAY + PAST_DUE_GRACE_SECS)
        );
        let never_paid = SubscriptionTerms {
            has_paid: false,
            ..paid_before
        };
        assert_eq!(access_at([never_paid], NOW), Access::FREE);
        let grace_over = SubscriptionTerms {
            current_period_start: Some(NOW - 8 * DAY),
            ..paid_before
        };
        assert_eq!(access_at([grace_over], NOW), Access::FREE);
    }

    #[test]
    fn statuses_that_never_grant() {
        for status in [
            S::Unpaid,
            S::Incomplete,
            S::IncompleteExpired,
            S::Paused,
            S::Canceled,
        ] {
            assert_eq!(
                access_at([terms(status, Role::Pro)], NOW),
                Access::FREE,
                "{status}"
            );
        }
        let no_tier = SubscriptionTerms {
            tier: None,
            ..terms(S::Active, Role::Pro)
        };
        assert_eq!(access_at([no_tier], NOW), Access::FREE);
    }

    #[test]
    fn the_highest_tier_wins() {
        let access = access_at(
            [
                terms(S::Active, Role::Basic),
                terms(S::Canceled, Role::Pro),
                terms(S::Trialing, Role::Pro),
            ],
            NOW,
        );
        assert_eq!(access.role, Role::Pro);
    }
}
