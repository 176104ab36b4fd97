use chrono::{DateTime, Duration, Utc};

use crate::labels::label_enum;

label_enum! {
    /// A team's subscription plan.
    pub enum Plan as "plan" {
        Free => "free",
        Standard => "standard",
        Premium => "premium",
        Enterprise => "enterprise",
    }
}

/// What a plan allows. `None` means unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanLimits {
    pub retention_days: u32,
    pub max_heartbeats: Option<u32>,
    pub max_members: Option<u32>,
    pub ai_heartbeats: bool,
}

impl Plan {
    /// The one table of plan limits (retention from the product text; the other limits are
    /// ours, and docs/architecture.md repeats them).
    pub fn limits(self) -> PlanLimits {
        match self {
            Plan::Free => PlanLimits {
                retention_days: 7,
                max_heartbeats: Some(20),
                max_members: Some(3),
                ai_heartbeats: false,
            },
            Plan::Standard => PlanLimits {
                retention_days: 30,
                max_heartbeats: Some(100),
                max_members: Some(10),
                ai_heartbeats: false,
            },
            Plan::Premium => PlanLimits {
                retention_days: 90,
                max_heartbeats: Some(1_000),
                max_members: Some(50),
                ai_heartbeats: true,
            },
            Plan::Enterprise => PlanLimits {
                retention_days: 365,
                max_heartbeats: None,
                max_members: None,
                ai_heartbeats: true,
            },
        }
    }

    /// Pings received before this instant are outside the plan's history: no query shows them
    /// and the purge deletes them.
    pub fn retention_cutoff(self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::days(i64::from(self.limits().retention_days))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retention_follows_the_product_text() {
        let days: Vec<u32> = Plan::ALL
            .iter()
            .map(|p| p.limits().retention_days)
            .collect();
        assert_eq!(days, vec![7, 30, 90, 365]);
    }

    #[test]
    fn only_premium_and_enterprise_have_ai() {
        assert!(!Plan::Free.limits().ai_heartbeats);
        assert!(!Plan::Standard.limits().ai_heartbeats);
        assert!(Plan::Premium.limits().ai_heartbeats);
        assert!(Plan::Enterprise.limits().ai_heartbeats);
    }

    #[test]
    fn limits_grow_with_the_plan() {
        assert_eq!(Plan::Free.limits().max_heartbeats, Some(20));
        assert_eq!(Plan::Standard.limits().max_members, Some(10));
        assert_eq!(Plan::Premium.limits().max_heartbeats, Some(1_000));
        assert_eq!(Plan::Enterprise.limits().max_heartbeats, None);
        assert_eq!(Plan::Enterprise.limits().max_members, None);
    }

    #[test]
    fn plans_parse_by_name_in_any_case() {
        for plan in Plan::ALL {
            assert_eq!(plan.as_str().parse::<Plan>(), Ok(*plan));
            assert_eq!(plan.as_str().to_uppercase().parse::<Plan>(), Ok(*plan));
        }
        assert!("gold".parse::<Plan>().is_err());
    }

    #[test]
    fn cutoff_is_exactly_the_retention_before_now() {
        let now = Utc
            .with_ymd_and_hms(2026, 3, 10, 12, 0, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(
            Plan::Free.retention_cutoff(now),
            Utc.with_ymd_and_hms(2026, 3, 3, 12, 0, 0)
                .single()
                .unwrap_or_default()
        );
        assert_eq!(
            Plan::Enterprise.retention_cutoff(now),
            Utc.with_ymd_and_hms(2025, 3, 10, 12, 0, 0)
                .single()
                .unwrap_or_default()
        );
    }
}
