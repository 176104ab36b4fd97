//! Helpers shared by the domain's unit tests.

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

use crate::PingKind;

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
