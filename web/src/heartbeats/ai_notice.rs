//! The banner left when Lifeline, not a person, turned AI mode off — today because the team
//! moved to a plan without AI heartbeats. It shows on the heartbeat's page and on the list until
//! someone switches the heartbeat's mode again, so a team that downgraded learns why its
//! heartbeats are back on their fixed interval + grace, and where to get AI mode back.

use lifeline_domain::Plan;
use lifeline_store::ai::{AiOffNotice, AiOffReason};

use crate::teams::plan_name;

pub struct AiOffBanner {
    /// "AI mode was turned off on 2026-11-26: the Standard plan does not include AI heartbeats."
    pub text: String,
    /// The plan still lacks AI heartbeats: the banner links to the upgrade.
    pub upgrade: bool,
    /// On the list: the heartbeats concerned, as (id, name).
    pub heartbeats: Vec<(String, String)>,
}

impl AiOffBanner {
    /// The banner of one heartbeat's page, under the team's current `plan`.
    pub fn for_heartbeat(notice: &AiOffNotice, plan: Plan) -> Self {
        AiOffBanner {
            text: sentence(notice, plan, "switch it back on below"),
            upgrade: !plan.limits().ai_heartbeats,
            heartbeats: Vec::new(),
        }
    }

    /// One banner for the list, dated by the newest notice (`notices` come newest first).
    pub fn for_list(notices: &[AiOffNotice], plan: Plan) -> Option<Self> {
        let newest = notices.first()?;
        Some(AiOffBanner {
            text: sentence(newest, plan, "switch them back on from their pages"),
            upgrade: !plan.limits().ai_heartbeats,
            heartbeats: notices
                .iter()
                .map(|n| (n.heartbeat.to_string(), n.name.clone()))
                .collect(),
        })
    }
}

fn sentence(notice: &AiOffNotice, plan: Plan, back_on: &str) -> String {
    let date = notice.at.format("%Y-%m-%d");
    match notice.reason {
        AiOffReason::PlanDowngrade if !plan.limits().ai_heartbeats => format!(
            "AI mode was turned off on {date}: the {} plan does not include AI heartbeats.",
            plan_name(plan)
        ),
        AiOffReason::PlanDowngrade => format!(
            "AI mode was turned off on {date}, when the team's plan did not include AI \
             heartbeats. The {} plan does: {back_on}.",
            plan_name(plan)
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use chrono::{DateTime, Utc};
    use lifeline_domain::HeartbeatId;

    fn notice(name: &str, at: &str) -> AiOffNotice {
        AiOffNotice {
            heartbeat: HeartbeatId::new(),
            name: name.to_owned(),
            at: DateTime::parse_from_rfc3339(at)
                .unwrap()
                .with_timezone(&Utc),
            reason: AiOffReason::PlanDowngrade,
        }
    }

    #[test]
    fn a_downgraded_team_reads_why_and_where_to_upgrade() {
        let b =
            AiOffBanner::for_heartbeat(&notice("nightly", "2026-11-26T10:00:00Z"), Plan::Standard);
        assert_eq!(
            b.text,
            "AI mode was turned off on 2026-11-26: the Standard plan does not include AI heartbeats."
        );
        assert!(b.upgrade);
    }

    #[test]
    fn after_an_upgrade_the_banner_says_ai_mode_can_come_back() {
        let notices = [
            notice("b", "2026-11-27T10:00:00Z"),
            notice("a", "2026-11-20T10:00:00Z"),
        ];
        let b = AiOffBanner::for_list(&notices, Plan::Premium).unwrap();
        assert!(
            b.text.starts_with("AI mode was turned off on 2026-11-27,"),
            "{}",
            b.text
        );
        assert!(b.text.contains("The Premium plan does"), "{}", b.text);
        assert!(!b.upgrade);
        assert_eq!(b.heartbeats.len(), 2);
        assert!(AiOffBanner::for_list(&[], Plan::Free).is_none());
    }
}
