//! One clock: ingest and scheduler processes whose own clocks are 30 s ahead or behind (shifted
//! by libfaketime) still agree on every time that orders pings or decides a deadline, because
//! those come from Postgres. No false down, no missed down, no duplicate alert, no lost `/fail`.

use std::path::PathBuf;
use std::time::Duration;

use lifeline_domain::{Plan, Status};
use lifeline_store::heartbeats::Heartbeat;
use lifeline_testkit::{HttpServer, Lifeline, PATIENCE, Process, Role, TestApp};

use crate::settled;

/// Debian's libfaketime (`deploy/test.sh` installs the `faketime` package).
fn libfaketime() -> PathBuf {
    let found = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|arch| arch.path().join("faketime/libfaketime.so.1"))
        .find(|lib| lib.exists());
    found.unwrap_or_else(|| {
        panic!("libfaketime not found: install Debian's faketime package (deploy/test.sh does)")
    })
}

/// A process of `role` whose clock is off by `offset` seconds (`+30`, `-30`). Monotonic time is
/// left alone: only the wall clock is wrong, as on a machine whose NTP failed.
async fn skewed(app: &TestApp, role: Role, offset: &str) -> Process {
    Lifeline::new(env!("CARGO_BIN_EXE_lifeline"), &app.db.settings)
        .env("LD_PRELOAD", libfaketime().display())
        .env("FAKETIME", offset)
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .env("LIFELINE_ALLOW_PRIVATE_WEBHOOKS", "1")
        .start(role)
        .await
}

async fn ping(app: &TestApp, process: &Process, hb: &Heartbeat, signal: &str) {
    let token = app.url(hb).rsplit('/').next().unwrap().to_owned();
    let url = format!("{}/api/v1/hb/{token}{signal}", process.base());
    assert_eq!(app.get_status(url).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_with_skewed_clocks_agree_on_every_ping_and_deadline() {
    let app = TestApp::start().await;
    let (ahead, behind) = tokio::join!(
        skewed(&app, Role::Ingest, "+30"),
        skewed(&app, Role::Ingest, "-30")
    );
    // The processes really run on shifted clocks: a ping through each is stored at Postgres's
    // time, not at its own.
    let scope = app.team(Plan::Free).await;
    let probe = app.heartbeat(&scope, 3600, 600).await;
    for process in [&ahead, &behind] {
        ping(&app, process, &probe, "").await;
    }
    let off = app
        .count(&format!(
            "SELECT count(*) AS n FROM pings WHERE heartbeat_id = '{}' \
             AND abs(extract(epoch FROM received_at - now())) > 10",
            probe.id
        ))
        .await;
    assert_eq!(off, 0, "pings are stamped by Postgres's clock");

    let (sched_ahead, sched_behind) = tokio::join!(
        skewed(&app, Role::Scheduler, "+30"),
        skewed(&app, Role::Scheduler, "-30")
    );
    // Every 3 s, with 2 s of grace.
    let hb = app.heartbeat(&scope, 3, 2).await;
    let hook = HttpServer::ok().await;
    app.webhook(&scope, &hb, &hook.url("/hook")).await;

    // Pings every second through both ingests, for 8 s: never late, never down.
    for n in 0..8 {
        let through = if n % 2 == 0 { &ahead } else { &behind };
        ping(&app, through, &hb, "").await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert_eq!(app.reload(&scope, hb.id).await.timing.status, Status::Up);
    assert!(hook.requests().is_empty(), "no false down");

    // A success through the ingest ahead, then a failure through the one behind: the failure
    // is the newer signal, and counts.
    ping(&app, &ahead, &hb, "").await;
    ping(&app, &behind, &hb, "/fail").await;
    assert_eq!(app.reload(&scope, hb.id).await.timing.status, Status::Down);
    hook.wait_for(1, PATIENCE).await;
    ping(&app, &behind, &hb, "").await;
    hook.wait_for(2, PATIENCE).await;

    // Silence: down once interval + grace has passed by Postgres's clock, neither 30 s early
    // (the scheduler ahead) nor 30 s late (the one behind), alerted once.
    let delivered = hook.wait_for(3, Duration::from_secs(20)).await;
    settled(&app).await;
    let events: Vec<String> = hook
        .requests()
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        events,
        ["heartbeat.down", "heartbeat.up", "heartbeat.down"],
        "one alert per change, none twice"
    );
    assert_eq!(delivered.len(), 3);
    let early_or_late = app
        .count(&format!(
            "SELECT count(*) AS n FROM incidents i JOIN heartbeats h ON h.id = i.heartbeat_id \
             WHERE i.heartbeat_id = '{}' AND i.reason NOT LIKE '%failure%' \
             AND (i.opened_at < h.last_ping_at + interval '5 seconds' \
                  OR i.opened_at > h.last_ping_at + interval '8 seconds')",
            hb.id
        ))
        .await;
    assert_eq!(
        early_or_late, 0,
        "down at interval + grace, by Postgres's clock"
    );
    for process in [ahead, behind, sched_ahead, sched_behind] {
        assert!(process.stop().await.success());
    }
    app.stop().await;
}
