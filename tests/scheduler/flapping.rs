//! Flapping (README, "Statuses, deadlines and alerts"): a job alternating failure and success
//! pages once that it is flapping, its further changes are held, and a summary ends the spell
//! once it is stable; then alerts are back to normal.

use std::time::Duration;

use lifeline_domain::{FlapPolicy, Plan};
use lifeline_store::heartbeats::Heartbeat;
use lifeline_testkit::{HttpServer, PATIENCE, Request, TestApp, local_settings};

use crate::{reason, settled};

/// Four changes into or out of `down` within a minute make a heartbeat flapping; two seconds
/// without one end it.
const POLICY: FlapPolicy = FlapPolicy {
    changes: 4,
    window: Duration::from_secs(60),
    stable: Duration::from_secs(2),
};

async fn app_with(policy: FlapPolicy) -> TestApp {
    let mut app = TestApp::start_with(local_settings(), |mut s| {
        s.flapping = policy;
        s
    })
    .await;
    app.start_scheduler(app.scheduler_settings()).await;
    app
}

async fn ping(app: &TestApp, hb: &Heartbeat, signal: &str) {
    let url = format!("{}{signal}", app.url(hb));
    assert_eq!(app.get_status(url).await, 200);
}

fn events(requests: &[Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flapping_job_pages_once_then_summarises_and_alerts_return() {
    let app = app_with(POLICY).await;
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, 3600, 600).await;
    let hook = HttpServer::ok().await;
    app.webhook(&scope, &hb, &hook.url("/hook")).await;
    ping(&app, &hb, "").await;

    // Three changes are announced one by one.
    for (n, signal) in [(1, "/fail"), (2, ""), (3, "/fail")] {
        ping(&app, &hb, signal).await;
        hook.wait_for(n, PATIENCE).await;
    }
    // The fourth makes it flapping: one notice, and the recovery is held.
    ping(&app, &hb, "").await;
    hook.wait_for(4, PATIENCE).await;
    // Further changes, however many, are not announced.
    for _ in 0..5 {
        ping(&app, &hb, "/fail").await;
        ping(&app, &hb, "").await;
    }
    ping(&app, &hb, "/fail").await;
    settled(&app).await;
    assert_eq!(
        events(&hook.delivered()),
        [
            "heartbeat.down",
            "heartbeat.up",
            "heartbeat.down",
            "heartbeat.flapping"
        ]
    );
    let notice = &hook.delivered()[3];
    assert!(
        reason(notice).starts_with("4 changes between up and down within 1 min"),
        "{}",
        reason(notice)
    );
    let stats = app
        .count(
            "SELECT count(*) AS n FROM incidents WHERE kind = 'flapping' AND resolved_at IS NULL",
        )
        .await;
    assert_eq!(stats, 1, "one open flapping spell");

    // Stable for the stable period: a summary, which says it is down now.
    let delivered = hook.wait_for(5, Duration::from_secs(10)).await;
    let summary = &delivered[4];
    assert_eq!(summary.json()["type"], "heartbeat.stable");
    assert_eq!(summary.json()["heartbeat"]["status"], "down");
    let text = reason(summary);
    assert!(
        text.starts_with("stable again, now down: 12 changes between up and down (6 times down)"),
        "{text}"
    );

    // Alerts are back to normal: the next change is announced on its own.
    ping(&app, &hb, "").await;
    let delivered = hook.wait_for(6, PATIENCE).await;
    assert_eq!(delivered[5].json()["type"], "heartbeat.up");
    settled(&app).await;
    assert_eq!(hook.delivered().len(), 6);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_changes_page_a_bounded_number_of_times() {
    let app = app_with(POLICY).await;
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, 3600, 600).await;
    let hook = HttpServer::ok().await;
    app.webhook(&scope, &hb, &hook.url("/hook")).await;
    ping(&app, &hb, "").await;
    for _ in 0..100 {
        ping(&app, &hb, "/fail").await;
        ping(&app, &hb, "").await;
    }
    settled(&app).await;
    let got = events(&hook.delivered());
    let changes = got
        .iter()
        .filter(|e| *e == "heartbeat.down" || *e == "heartbeat.up")
        .count();
    assert!(
        changes <= 3,
        "only changes before flapping are announced: {got:?}"
    );
    assert_eq!(
        got.iter().filter(|e| *e == "heartbeat.flapping").count(),
        1,
        "{got:?}"
    );
    // Every change is still in the history.
    let recorded = app
        .count("SELECT count(*) AS n FROM status_changes WHERE 'down' IN (from_status, to_status)")
        .await;
    assert_eq!(recorded, 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_detection_off_every_change_is_announced() {
    let app = app_with(FlapPolicy {
        changes: 0,
        ..POLICY
    })
    .await;
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, 3600, 600).await;
    let hook = HttpServer::ok().await;
    app.webhook(&scope, &hb, &hook.url("/hook")).await;
    ping(&app, &hb, "").await;
    for n in 0..3 {
        ping(&app, &hb, "/fail").await;
        hook.wait_for(2 * n + 1, PATIENCE).await;
        ping(&app, &hb, "").await;
        hook.wait_for(2 * n + 2, PATIENCE).await;
    }
    settled(&app).await;
    assert_eq!(hook.delivered().len(), 6);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM incidents WHERE kind = 'flapping'")
            .await,
        0
    );
    app.stop().await;
}
