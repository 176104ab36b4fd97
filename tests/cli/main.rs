//! The `lifeline` binary as scripts use it: admin commands with `--json`, the demo, migrations,
//! and configuration errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod api_keys;
mod billing;
mod channels;
mod manage;
mod operator_errors;
mod run;

use chrono::Utc;
use diesel_async::SimpleAsyncConnection;
use lifeline_domain::FlapPolicy;
use lifeline_store::deadlines::{self, DueOutcome};
use lifeline_testkit::{Lifeline, TestDb};

/// The binary on the test's database, with ping URLs under `https://hb.example.com/`.
pub(crate) fn lifeline(db: &TestDb) -> Lifeline {
    Lifeline::new(env!("CARGO_BIN_EXE_lifeline"), &db.settings)
        .env("LIFELINE_PING_URL", "https://hb.example.com/")
}

/// `admin team create --name NAME --plan PLAN --json`.
pub(crate) fn create_team<'a>(name: &'a str, plan: &'a str) -> Vec<&'a str> {
    vec![
        "admin", "team", "create", "--name", name, "--plan", plan, "--json",
    ]
}

/// `admin heartbeat create --team TEAM --name NAME`, then `options`.
pub(crate) fn create_heartbeat<'a>(
    team: &'a str,
    name: &'a str,
    options: &[&'a str],
) -> Vec<&'a str> {
    let command = [
        "admin",
        "heartbeat",
        "create",
        "--team",
        team,
        "--name",
        name,
    ];
    [&command[..], options].concat()
}

/// `admin channel create --team TEAM --kind KIND --target TARGET`, then `options`.
pub(crate) fn create_channel<'a>(
    team: &'a str,
    kind: &'a str,
    target: &'a str,
    options: &[&'a str],
) -> Vec<&'a str> {
    let command = [
        "admin", "channel", "create", "--team", team, "--kind", kind, "--target", target,
    ];
    [&command[..], options].concat()
}

/// `admin heartbeat VERB ID --json` (rotate, pause, resume, stats).
pub(crate) fn on_heartbeat<'a>(verb: &'a str, id: &'a str) -> Vec<&'a str> {
    vec!["admin", "heartbeat", verb, id, "--json"]
}

/// Makes an up heartbeat a minute past its alert deadline and runs one deadline pass, which
/// takes it down and queues its alerts.
pub(crate) async fn gone_silent(db: &TestDb, hb_id: &str) -> DueOutcome {
    let mut conn = db.conn().await;
    conn.batch_execute(&format!(
        "UPDATE heartbeats SET status = 'up', last_ping_at = now() - interval '2 minutes', \
         due_at = now() - interval '1 minute', alert_at = now() - interval '1 minute', \
         next_check_at = now() - interval '1 minute' WHERE id = '{hb_id}'"
    ))
    .await
    .unwrap();
    let now = Utc::now();
    deadlines::process_due(&mut conn, now, now, 10, &FlapPolicy::default())
        .await
        .unwrap()
}
