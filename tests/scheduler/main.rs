//! Black-box tests of the scheduler: deadlines, incidents, delivery, long runs, our own
//! outages, retention and replicas — against real Postgres and Redis, with real local SMTP and
//! webhook servers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ai;
mod clock;
mod delivery;
mod early_warnings;
mod flapping;
mod long_runs;
mod outage;
mod races;
mod replicas;
mod retention;
mod startup_logs;
mod transitions;
mod wakeups;

use lifeline_testkit::{PATIENCE, Request, TestApp};

/// The incident reason a delivered alert gives.
pub fn reason(delivery: &Request) -> String {
    let body = delivery.json();
    body["incident"]["reason"]
        .as_str()
        .unwrap_or_else(|| panic!("no incident reason in {body}"))
        .to_owned()
}

/// Nothing left to send: no notification pending and no attempt in flight. From then on no
/// request can reach a receiver until something new happens, so counting what receivers got
/// needs no further waiting.
const UNSETTLED: &str = "SELECT (SELECT count(*) FROM notifications WHERE status = 'pending') \
    + (SELECT count(*) FROM notification_attempts WHERE finished_at IS NULL) AS n";

/// Waits until delivery has settled (see [`UNSETTLED`]).
pub async fn settled(app: &TestApp) {
    let left = app.wait_count(UNSETTLED, 0, PATIENCE).await;
    assert_eq!(left, 0, "notifications still pending or being sent");
}
