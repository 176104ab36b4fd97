//! What options take, checked as clap parses them, so a mistake is a usage error (exit status 2)
//! that names the option and what to type instead.

use lifeline_domain::TeamId;
use lifeline_domain::duration::{self, DurationError};

/// A team as the operator names it: its id, or its exact name (`--team "Ops"`). Which team a
/// name stands for is looked up when the command runs (`admin::scopes::team`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TeamRef {
    Id(TeamId),
    Name(String),
}

#[derive(Debug, PartialEq, Eq)]
pub struct EmptyTeamRef;

impl std::fmt::Display for EmptyTeamRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("give the team's id (a UUID) or its exact name")
    }
}

impl std::error::Error for EmptyTeamRef {}

impl std::str::FromStr for TeamRef {
    type Err = EmptyTeamRef;
    fn from_str(s: &str) -> Result<Self, EmptyTeamRef> {
        if s.trim().is_empty() {
            return Err(EmptyTeamRef);
        }
        // Names are compared exactly, spaces and all; only an id is trimmed.
        Ok(match TeamId::parse(s.trim()) {
            Ok(id) => TeamRef::Id(id),
            Err(_) => TeamRef::Name(s.to_owned()),
        })
    }
}

/// Whole seconds from a duration as people type it (`5m`, `1h 30m`, `2d`) or plain seconds
/// (`300`, what scripts already pass): the domain's parser, the one the dashboard uses. Options
/// that take it also allow a leading hyphen, so `-5` reaches this and is refused as negative
/// instead of being taken for an unknown option.
pub fn seconds(text: &str) -> Result<i64, DurationError> {
    duration::parse(text).map(|d| d.num_seconds())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_team_is_an_id_or_else_an_exact_name() {
        let id = TeamId::new();
        assert_eq!(
            format!(" {id} ").parse::<TeamRef>(),
            Ok(TeamRef::Id(id)),
            "ids are trimmed"
        );
        assert_eq!(
            "Newcomer team".parse::<TeamRef>(),
            Ok(TeamRef::Name("Newcomer team".into()))
        );
        assert_eq!(" Ops".parse::<TeamRef>(), Ok(TeamRef::Name(" Ops".into())));
        assert_eq!("  ".parse::<TeamRef>(), Err(EmptyTeamRef));
    }

    #[test]
    fn durations_are_human_units_or_plain_seconds() {
        assert_eq!(seconds("5m"), Ok(300));
        assert_eq!(seconds("1h30m"), Ok(5_400));
        assert_eq!(seconds("300"), Ok(300));
        assert!(seconds("-5").unwrap_err().to_string().contains("negative"));
    }
}
