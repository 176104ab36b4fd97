//! Helpers shared by the domain's unit tests.

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

use crate::{Cadence, LearnedCadence, PingKind, Schedule, StartExpectation};

/// An instant `secs` after a fixed origin.
pub fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0)
        .single()
        .unwrap_or_default()
}

/// Any kind of ping.
pub fn kinds() -> impl Strategy<Value = PingKind> {
    proptest::sample::select(PingKind::ALL)
}

/// Hourly + 10 min, learned as: usually within 50 min, warned at 55, down at 70; the next run
/// usually starts by 40 min, warned about at 41 min 40 s if it has not.
pub fn waiting_for_start() -> Cadence {
    let s = chrono::Duration::seconds;
    let fixed = Schedule::from_secs(3600, 600).unwrap_or_else(|e| panic!("{e}"));
    let learned = LearnedCadence::new(s(3000), s(3300), s(4200), fixed)
        .unwrap_or_else(|e| panic!("{e}"))
        .with_start(Some(StartExpectation {
            expected_by: s(2400),
            warn_after: s(2500),
        }));
    Cadence::Learned(learned)
}
