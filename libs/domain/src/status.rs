use serde::{Deserialize, Serialize};

/// A heartbeat's status, as the product text defines it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Created, no ping received yet: never alerts.
    New,
    /// The latest ping arrived within interval + grace.
    Up,
    /// The interval passed but the grace period has not: shown, no alert yet.
    Late,
    /// The grace period passed (or the job reported failure): incident open, alert sent.
    Down,
    /// Monitoring is off until the next ping or an explicit resume.
    Paused,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::New,
        Status::Up,
        Status::Late,
        Status::Down,
        Status::Paused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Up => "up",
            Status::Late => "late",
            Status::Down => "down",
            Status::Paused => "paused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether the heartbeat has deadlines that the scheduler must watch.
    pub fn is_monitored(self) -> bool {
        matches!(self, Status::Up | Status::Late)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_text() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Status::parse("UP"), None);
    }

    #[test]
    fn only_up_and_late_are_watched() {
        let watched: Vec<Status> = Status::ALL
            .into_iter()
            .filter(|s| s.is_monitored())
            .collect();
        assert_eq!(watched, vec![Status::Up, Status::Late]);
    }
}
