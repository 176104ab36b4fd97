//! Flapping: a job that alternates failure and success would open an incident and page every
//! channel on every ping. After [`FlapPolicy::changes`] changes into or out of `down` within
//! [`FlapPolicy::window`], a heartbeat is flapping: one notice says so, further changes are
//! recorded but not announced, and once none has come for [`FlapPolicy::stable`] a summary
//! ends it and alerts return to normal.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::Status;
use crate::duration::human;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlapPolicy {
    /// Changes into or out of `down` within `window` that make a heartbeat flapping; 0 turns
    /// flapping detection off.
    pub changes: u32,
    pub window: Duration,
    /// How long without such a change before a flapping heartbeat counts as stable again.
    pub stable: Duration,
}

impl Default for FlapPolicy {
    /// Six changes (three failures and three recoveries) within an hour; stable after 30 minutes
    /// without one.
    fn default() -> Self {
        Self {
            changes: 6,
            window: Duration::from_secs(3600),
            stable: Duration::from_secs(1800),
        }
    }
}

impl FlapPolicy {
    pub fn enabled(&self) -> bool {
        self.changes > 0
    }

    /// Whether `recent` changes within the window (the newest included) make a heartbeat
    /// flapping.
    pub fn is_flapping(&self, recent: u32) -> bool {
        self.enabled() && recent >= self.changes
    }

    /// Why a heartbeat was marked flapping, with `%s` where the count goes (filled in by the
    /// statement that counts).
    pub fn opening_reason_template(&self) -> String {
        format!(
            "%s changes between up and down within {}: further changes are not announced \
             until none has come for {}",
            human(span(self.window)),
            human(span(self.stable)),
        )
    }
}

/// What a flapping spell amounted to, told when it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlapSummary {
    pub since: DateTime<Utc>,
    /// Changes into or out of `down` during the spell.
    pub changes: u32,
    /// How many of them went down.
    pub downs: u32,
    pub last_change: Option<DateTime<Utc>>,
    pub status: Status,
}

impl FlapSummary {
    /// The line stored as the ended incident's reason and sent with its notice.
    pub fn describe(&self) -> String {
        let last = self
            .last_change
            .map(|t| format!(", the last at {}", t.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default();
        format!(
            "stable again, now {}: {} changes between up and down ({} times down) while it was \
             flapping, since {}{last}",
            self.status,
            self.changes,
            self.downs,
            self.since.format("%Y-%m-%d %H:%M UTC"),
        )
    }
}

fn span(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn flapping_starts_at_the_threshold_and_never_when_off() {
        let policy = FlapPolicy::default();
        assert!(!policy.is_flapping(5));
        assert!(policy.is_flapping(6));
        let off = FlapPolicy {
            changes: 0,
            ..policy
        };
        assert!(!off.is_flapping(1000));
    }

    #[test]
    fn the_reason_and_the_summary_say_what_happened() {
        let reason = FlapPolicy::default().opening_reason_template();
        assert!(
            reason.starts_with("%s changes between up and down within 1 h"),
            "{reason}"
        );
        assert!(reason.contains("30 min"), "{reason}");
        let summary = FlapSummary {
            since: Utc.with_ymd_and_hms(2026, 11, 26, 14, 2, 0).unwrap(),
            changes: 37,
            downs: 18,
            last_change: Some(Utc.with_ymd_and_hms(2026, 11, 26, 15, 40, 0).unwrap()),
            status: Status::Up,
        };
        assert_eq!(
            summary.describe(),
            "stable again, now up: 37 changes between up and down (18 times down) while it was \
             flapping, since 2026-11-26 14:02 UTC, the last at 2026-11-26 15:40 UTC"
        );
    }
}
