use crate::labels::label_enum;

label_enum! {
    /// A heartbeat's status, as the product text defines it.
    pub enum Status as "status" {
        /// Created, no ping received yet: never alerts.
        New => "new",
        /// The latest ping arrived within interval + grace.
        Up => "up",
        /// The interval passed but the grace period has not: shown, no alert yet.
        Late => "late",
        /// The grace period passed (or the job reported failure): incident open, alert sent.
        Down => "down",
        /// Monitoring is off until the next ping or an explicit resume.
        Paused => "paused",
    }
}

impl Status {
    /// Whether the heartbeat has deadlines that the scheduler must watch.
    pub fn is_monitored(self) -> bool {
        matches!(self, Status::Up | Status::Late)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_up_and_late_are_watched() {
        let watched: Vec<Status> = Status::ALL
            .iter()
            .copied()
            .filter(|s| s.is_monitored())
            .collect();
        assert_eq!(watched, vec![Status::Up, Status::Late]);
    }
}
