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

/// A heartbeat's description: free text shown in its alerts, so a paragraph at most. Trimmed;
/// may be empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatDescription(String);

impl HeartbeatDescription {
    pub const MAX_CHARS: usize = 2_000;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let text = raw.trim();
        if text.chars().count() > Self::MAX_CHARS {
            return Err(InvalidInput::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        Ok(Self(text.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_trimmed_may_be_empty_and_are_bounded() {
        let parsed = |raw: &str| HeartbeatDescription::parse(raw).map(|d| d.into_string());
        assert_eq!(parsed("  runs at 3am \n"), Ok("runs at 3am".into()));
        assert_eq!(parsed(""), Ok(String::new()));
        assert_eq!(parsed(&"é".repeat(2_000)), Ok("é".repeat(2_000)));
        let too_long = HeartbeatDescription::parse(&"x".repeat(2_001)).unwrap_err();
        assert_eq!(too_long.to_string(), "at most 2000 characters");
    }

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
