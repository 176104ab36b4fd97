//! What a heartbeat is called and how its deadlines are set.

use crate::labels::label_enum;
use crate::team::{InvalidInput, bounded_text};

label_enum! {
    /// Where a heartbeat's deadlines come from.
    pub enum HeartbeatMode as "heartbeat mode" {
        /// A fixed interval + grace.
        Fixed => "fixed",
        /// A cadence learned from the job's history (Premium and Enterprise), with the fixed
        /// interval + grace as fallback and cap.
        Ai => "ai",
    }
}

/// A heartbeat's name: 1 to 200 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatName(String);

impl HeartbeatName {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        bounded_text(raw, "heartbeat name", 200).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            HeartbeatName::parse(" nightly backup ").map(HeartbeatName::into_string),
            Ok("nightly backup".into())
        );
        assert_eq!(
            HeartbeatName::parse("").map(HeartbeatName::into_string),
            Err(InvalidInput::Length {
                what: "heartbeat name",
                max: 200
            })
        );
        assert!(HeartbeatName::parse(&"x".repeat(201)).is_err());
    }
}
