//! Scheduler replicas as real processes: two of them over 1,000 heartbeats crossing their
//! deadlines deliver exactly one alert per incident and channel, and a process killed in the
//! middle of a delivery leaves it to be finished, once, after a restart.

use std::collections::HashSet;
use std::time::Duration;

use lifeline_domain::Plan;
use lifeline_testkit::{HttpServer, Lifeline, PATIENCE, Process, Reply, Role, TestApp, wait_for};

use crate::settled;

/// A scheduler process on the app's engines; its sends time out after `timeout_ms`.
async fn scheduler(app: &TestApp, timeout_ms: u64) -> Process {
    Lifeline::new(env!("CARGO_BIN_EXE_lifeline"), &app.db.settings)
        .env("LIFELINE_ALLOW_PRIVATE_WEBHOOKS", "1")
        .env("LIFELINE_NOTIFY_TIMEOUT_MS", timeout_ms)
        .env("LIFELINE_DELIVERY_BACKOFF_MS", "200")
        .start(Role::Scheduler)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_schedulers_alert_once_per_incident_and_channel() {
    let app = TestApp::start().await;
    let scope = app.team(Plan::Enterprise).await;
    let hook = HttpServer::ok().await;
    let first = app.heartbeat(&scope, 60, 0).await;
    let a = app
        .webhook(&scope, &first, &format!("{}/a", hook.url("/hook")))
        .await;
    let b = app
        .webhook(&scope, &first, &format!("{}/b", hook.url("/hook")))
        .await;
    // 999 more heartbeats on the same two channels, all crossing their deadline within ~3 s.
    app.sql(&format!(
        "INSERT INTO heartbeats (id, team_id, name, token, token_hash, interval_secs, grace_secs)
         SELECT gen_random_uuid(), '{team}', 'job-' || n, 'tok-' || n, sha256(('tok-' || n)::bytea), 60, 0
         FROM generate_series(1, 999) n;
         INSERT INTO heartbeat_channels (heartbeat_id, channel_id, team_id)
         SELECT h.id, c.id, h.team_id FROM heartbeats h, channels c
         WHERE h.id <> '{first}' AND c.id IN ('{a}', '{b}');
         UPDATE heartbeats SET status = 'late', last_ping_at = now() - interval '1 minute',
           due_at = now() + random() * interval '3 seconds' + interval '2 seconds',
           alert_at = due_at, next_check_at = due_at;
         UPDATE heartbeats SET alert_at = due_at, next_check_at = due_at;",
        team = scope.team_id(),
        first = first.id,
    ))
    .await;
    let (one, two) = tokio::join!(scheduler(&app, 5_000), scheduler(&app, 5_000));

    let delivered = hook.wait_for(2000, Duration::from_secs(60)).await;
    settled(&app).await;
    let all = hook.requests();
    assert_eq!(app.count("SELECT count(*) AS n FROM incidents").await, 1000);
    assert_eq!(delivered.len(), 2000, "one per incident and channel");
    assert_eq!(all.len(), 2000, "and nothing more");
    let distinct: HashSet<(String, String)> = all
        .iter()
        .map(|r| (r.json()["incident"]["id"].to_string(), r.path.clone()))
        .collect();
    assert_eq!(distinct.len(), 2000);
    let sent = "SELECT count(*) AS n FROM notifications WHERE status = 'sent' AND attempts = 1";
    assert_eq!(app.count(sent).await, 2000);
    for process in [one, two] {
        assert!(process.stop().await.success(), "a scheduler stops cleanly");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_mid_delivery_is_finished_once_after_a_restart() {
    let app = TestApp::start().await;
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, 1, 0).await;
    // The first delivery hangs: the process is killed while it waits for the answer.
    let hook = HttpServer::scripted(vec![Reply::Slow(Duration::from_secs(30))]).await;
    app.webhook(&scope, &hb, &hook.url("/hook")).await;
    let mut first = scheduler(&app, 2_000).await;
    assert_eq!(app.get_status(app.url(&hb)).await, 200);
    assert_eq!(hook.wait_for_requests(1, PATIENCE).await.len(), 1);
    assert_eq!(hook.unanswered(), 1, "the delivery is held, in flight");
    first.kill().await;

    let second = scheduler(&app, 2_000).await;
    // The claim's lease (2 × timeout + 1 s) runs out, then the new process delivers.
    let delivered = hook.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(delivered.len(), 1);
    settled(&app).await;
    assert_eq!(hook.delivered().len(), 1, "delivered once");
    assert_eq!(
        hook.requests().len(),
        2,
        "the abandoned send and the one after the restart"
    );
    let sent = "SELECT count(*) AS n FROM notifications WHERE status = 'sent' AND attempts = 2";
    assert_eq!(app.count(sent).await, 1);
    let abandoned = "SELECT count(*) AS n FROM notification_attempts WHERE attempt = 1 AND outcome = 'abandoned'";
    assert_eq!(app.count(abandoned).await, 1);
    assert!(second.stop().await.success());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_process_serves_its_ops_endpoints() {
    let app = TestApp::start().await;
    let process = Lifeline::new(env!("CARGO_BIN_EXE_lifeline"), &app.db.settings)
        .start(Role::Scheduler)
        .await;
    let base = process.ops_base();
    // Ready as soon as Postgres answers; not blind once its first pass has taken in the
    // beacons of the test's ingest.
    let ready = wait_for(
        PATIENCE,
        async || {
            let ready = app.http.get(format!("{base}/readyz")).send().await.unwrap();
            assert_eq!(ready.status(), 200);
            ready.json::<serde_json::Value>().await.unwrap()
        },
        |ready| ready["blind"] == false,
    )
    .await;
    assert_eq!(ready["postgres"], "ok");
    assert_eq!(
        ready["blind"], false,
        "the test's ingest writes beacons: {ready}"
    );
    assert_eq!(app.get_status(format!("{base}/healthz")).await, 200);
    assert_eq!(app.get_status(format!("{base}/metrics")).await, 200);
    assert!(process.stop().await.success(), "stops cleanly on SIGTERM");
    app.stop().await;
}
