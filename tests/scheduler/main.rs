//! Black-box tests of the scheduler (DESIGN.md §5): deadlines, incidents, delivery, long runs,
//! our own outages, retention and replicas — against real Postgres and Redis, with real local
//! SMTP and webhook servers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod delivery;
mod long_runs;
mod outage;
mod races;
mod replicas;
mod retention;
mod transitions;
mod wakeups;

use std::time::Duration;

use lifeline_domain::HeartbeatId;

/// Long enough for any decision or delivery in these tests, short enough to fail fast.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// The incident reason a delivered alert gives.
pub fn reason(delivery: &support::notify_servers::Request) -> String {
    let body = delivery.json();
    body["incident"]["reason"]
        .as_str()
        .unwrap_or_else(|| panic!("no incident reason in {body}"))
        .to_owned()
}

/// The statuses a heartbeat went through, oldest first, as `from>to` pairs.
pub async fn transitions(app: &support::TestApp, hb: HeartbeatId) -> Vec<String> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use lifeline_store::schema::status_changes as sc;
    let rows: Vec<(String, String)> = sc::table
        .filter(sc::heartbeat_id.eq(hb.as_uuid()))
        .order(sc::id)
        .select((sc::from_status, sc::to_status))
        .load(&mut app.conn().await)
        .await
        .unwrap();
    rows.into_iter().map(|(f, t)| format!("{f}>{t}")).collect()
}
