//! What a subscription's state means for a team's plan. Billing reads each signed Stripe event
//! into a [`Subscription`] (or learns that the subscription is gone) and asks [`plan_change`];
//! the operator's `set-plan` goes around it. The rules, as customers of a SaaS expect them:
//!
//! - an upgrade takes effect at once: the customer has paid for it;
//! - a downgrade, or a cancellation at the period's end, takes effect when the paid period
//!   ends: until then the team keeps what it paid for;
//! - a deleted (or finally unpaid) subscription ends the paid plan at once;
//! - Enterprise is set by an operator only, and no Stripe event changes it.
//!
//! Stripe may deliver events out of order and more than once; [`is_newer`] says whether an
//! event's subscription state is newer than the last one applied.

use chrono::{DateTime, Utc};

use crate::labels::label_enum;
use crate::plan::Plan;

label_enum! {
    /// A Stripe subscription's status, as Stripe names it.
    pub enum SubscriptionStatus as "subscription status" {
        Incomplete => "incomplete",
        IncompleteExpired => "incomplete_expired",
        Trialing => "trialing",
        Active => "active",
        PastDue => "past_due",
        Canceled => "canceled",
        Unpaid => "unpaid",
        Paused => "paused",
    }
}

/// A subscription as one signed event shows it. `plan` is what its price maps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subscription {
    pub status: SubscriptionStatus,
    pub plan: Plan,
    pub period_end: DateTime<Utc>,
    pub cancel_at_period_end: bool,
}

/// What to do with a team's plan: move to `now` at once (if any), and schedule `next` for when
/// the period ends (`None` clears a change scheduled earlier).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanChange {
    pub now: Option<Plan>,
    pub next: Option<ScheduledPlan>,
}

/// A plan that takes over when the paid period ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScheduledPlan {
    pub plan: Plan,
    pub at: DateTime<Utc>,
}

impl PlanChange {
    const NOTHING: PlanChange = PlanChange {
        now: None,
        next: None,
    };
}

/// Where plans stand against each other: an upgrade is a move up this order.
pub fn rank(plan: Plan) -> u8 {
    match plan {
        Plan::Free => 0,
        Plan::Standard => 1,
        Plan::Premium => 2,
        Plan::Enterprise => 3,
    }
}

/// The change a subscription's state (`None`: Stripe deleted the subscription) makes to a team
/// on `current`.
pub fn plan_change(current: Plan, subscription: Option<&Subscription>) -> PlanChange {
    if current == Plan::Enterprise {
        return PlanChange::NOTHING;
    }
    let ended = PlanChange {
        now: (current != Plan::Free).then_some(Plan::Free),
        next: None,
    };
    let Some(s) = subscription else {
        return ended;
    };
    match s.status {
        SubscriptionStatus::Canceled | SubscriptionStatus::IncompleteExpired => ended,
        // Not paid for yet: nothing is unlocked, nothing taken away.
        SubscriptionStatus::Incomplete => PlanChange::NOTHING,
        // Paid, trial, or paused/overdue while Stripe retries: the plan holds until Stripe
        // deletes the subscription.
        SubscriptionStatus::Active
        | SubscriptionStatus::Trialing
        | SubscriptionStatus::PastDue
        | SubscriptionStatus::Unpaid
        | SubscriptionStatus::Paused => {
            let upgrade = rank(s.plan) > rank(current);
            let holds = if upgrade { s.plan } else { current };
            let after = if s.cancel_at_period_end {
                Plan::Free
            } else {
                s.plan
            };
            PlanChange {
                now: upgrade.then_some(s.plan),
                next: (after != holds).then_some(ScheduledPlan {
                    plan: after,
                    at: s.period_end,
                }),
            }
        }
    }
}

/// Whether an event created at `created` carries a newer subscription state than the last one
/// applied (created at `applied`). Equal times are not newer: Stripe's `created` has a
/// second's resolution, and of two events in the same second the first one applied stands.
pub fn is_newer(applied: Option<DateTime<Utc>>, created: DateTime<Utc>) -> bool {
    applied.is_none_or(|applied| created > applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::t;

    fn subscription(plan: Plan) -> Subscription {
        Subscription {
            status: SubscriptionStatus::Active,
            plan,
            period_end: t(30 * 86_400),
            cancel_at_period_end: false,
        }
    }

    fn at_period_end(plan: Plan) -> Option<ScheduledPlan> {
        Some(ScheduledPlan {
            plan,
            at: t(30 * 86_400),
        })
    }

    #[test]
    fn an_upgrade_takes_effect_at_once() {
        let change = plan_change(Plan::Free, Some(&subscription(Plan::Premium)));
        assert_eq!(change.now, Some(Plan::Premium));
        assert_eq!(change.next, None);
        let change = plan_change(Plan::Standard, Some(&subscription(Plan::Premium)));
        assert_eq!(change.now, Some(Plan::Premium));
    }

    #[test]
    fn a_downgrade_waits_for_the_end_of_the_paid_period() {
        let change = plan_change(Plan::Premium, Some(&subscription(Plan::Standard)));
        assert_eq!(change.now, None);
        assert_eq!(change.next, at_period_end(Plan::Standard));
    }

    #[test]
    fn a_cancellation_at_period_end_keeps_the_plan_until_then() {
        let cancelling = Subscription {
            cancel_at_period_end: true,
            ..subscription(Plan::Premium)
        };
        let change = plan_change(Plan::Premium, Some(&cancelling));
        assert_eq!(change.now, None);
        assert_eq!(change.next, at_period_end(Plan::Free));
        // Resumed before the end: the scheduled change is cleared.
        let change = plan_change(Plan::Premium, Some(&subscription(Plan::Premium)));
        assert_eq!(change, PlanChange::NOTHING);
    }

    #[test]
    fn a_deleted_or_expired_subscription_ends_the_plan_at_once() {
        let ended = PlanChange {
            now: Some(Plan::Free),
            next: None,
        };
        assert_eq!(plan_change(Plan::Premium, None), ended);
        for status in [
            SubscriptionStatus::Canceled,
            SubscriptionStatus::IncompleteExpired,
        ] {
            let gone = Subscription {
                status,
                ..subscription(Plan::Premium)
            };
            assert_eq!(plan_change(Plan::Premium, Some(&gone)), ended);
        }
        assert_eq!(plan_change(Plan::Free, None), PlanChange::NOTHING);
    }

    #[test]
    fn an_unpaid_first_invoice_unlocks_nothing_and_overdue_keeps_the_plan() {
        let incomplete = Subscription {
            status: SubscriptionStatus::Incomplete,
            ..subscription(Plan::Premium)
        };
        assert_eq!(
            plan_change(Plan::Free, Some(&incomplete)),
            PlanChange::NOTHING
        );
        let overdue = Subscription {
            status: SubscriptionStatus::PastDue,
            ..subscription(Plan::Premium)
        };
        assert_eq!(
            plan_change(Plan::Premium, Some(&overdue)),
            PlanChange::NOTHING
        );
    }

    #[test]
    fn enterprise_is_left_to_operators() {
        assert_eq!(plan_change(Plan::Enterprise, None), PlanChange::NOTHING);
        let standard = subscription(Plan::Standard);
        assert_eq!(
            plan_change(Plan::Enterprise, Some(&standard)),
            PlanChange::NOTHING
        );
    }

    #[test]
    fn only_a_later_event_is_newer() {
        assert!(is_newer(None, t(10)));
        assert!(is_newer(Some(t(10)), t(11)));
        assert!(!is_newer(Some(t(10)), t(10)));
        assert!(!is_newer(Some(t(10)), t(9)));
    }

    #[test]
    fn statuses_read_as_stripe_writes_them() {
        assert_eq!(
            "past_due".parse::<SubscriptionStatus>(),
            Ok(SubscriptionStatus::PastDue)
        );
        assert!("gone".parse::<SubscriptionStatus>().is_err());
    }
}
