//! The time zone fields (a heartbeat's on its form, the team's on `/team`): a text input with a
//! `<datalist>` of IANA names (`templates/_time_zones.html`), so browsers suggest names as the
//! user types and the form still works as plain text without JavaScript.

use std::sync::OnceLock;

use lifeline_domain::{TimeZoneName, UnknownTimeZone};

/// The names the `<datalist>` offers, built once (the tz database does not change while the
/// process runs).
pub fn suggestions() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| TimeZoneName::suggestions().collect())
}

/// What a form shows beside a time zone it refused: the domain's message as a sentence.
pub fn refused(e: &UnknownTimeZone) -> String {
    crate::form::capitalized(&e.to_string())
}
