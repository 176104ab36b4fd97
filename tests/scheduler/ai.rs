//! AI heartbeats end to end: a Premium heartbeat with eight days of history, the analyzer
//! training its model, ingest applying it to a live ping, and the scheduler sending the early
//! warning to a real local webhook before the fixed interval + grace would have alerted.

use chrono::{Duration, Utc};
use lifeline_domain::{Plan, Status};
use lifeline_store::TeamScope;
use lifeline_store::heartbeats::Heartbeat;
use lifeline_testkit::{HttpServer, PATIENCE, TestApp};

/// Pings every 20 seconds, with a second or two of jitter.
const EVERY_SECS: i64 = 20;

/// A Premium heartbeat in AI mode with eight days of 20-second pings, a webhook, and a trained
/// model (the analyzer running in the app). With `starts`, each run also sent a start ping 8
/// seconds before its success.
async fn trained(starts: bool) -> (TestApp, TeamScope, Heartbeat, HttpServer) {
    let mut app = TestApp::with_scheduler().await;
    let scope = app.team(Plan::Premium).await;
    // Fixed mode would alert 20 s + 100 s after the last ping.
    let hb = app.heartbeat(&scope, EVERY_SECS, 100).await;
    let hook = HttpServer::ok().await;
    app.webhook(&scope, &hb, &hook.url("/hook")).await;
    let id = hb.id.as_uuid();
    let team = scope.team_id().as_uuid();
    // Eight days of history with 512-byte bodies, ending a minute ago.
    app.sql(&format!(
        "INSERT INTO pings (received_at, heartbeat_id, team_id, kind, method, body_size) \
         SELECT now() - interval '8 days' + i * interval '{EVERY_SECS} seconds' \
                + (i % 3) * interval '700 milliseconds', '{id}', '{team}', 'success', 'GET', 512 \
         FROM generate_series(0, 8 * 86400 / {EVERY_SECS} - 3) AS i"
    ))
    .await;
    if starts {
        app.sql(&format!(
            "INSERT INTO pings (received_at, heartbeat_id, team_id, kind, method, body_size) \
             SELECT received_at - interval '8 seconds', heartbeat_id, team_id, 'start', 'GET', 0 \
             FROM pings WHERE heartbeat_id = '{id}'"
        ))
        .await;
    }
    app.sql(&format!(
        "UPDATE heartbeats SET mode = 'ai', model_due_at = now() WHERE id = '{id}'"
    ))
    .await;
    app.start_analyzer().await;
    let trained = format!("SELECT count(*) AS n FROM ai_models WHERE heartbeat_id = '{id}'");
    assert_eq!(
        app.wait_count(&trained, 1, PATIENCE).await,
        1,
        "the analyzer trained no model"
    );
    (app, scope, hb, hook)
}

/// A ping through the ping API with a body of `size` bytes.
async fn ping(app: &TestApp, hb: &Heartbeat, size: usize) {
    let answer = app
        .http
        .post(app.url(hb))
        .body(vec![b'x'; size])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learned_heartbeat_warns_before_its_fixed_deadline() {
    let (app, scope, hb, hook) = trained(false).await;
    let id = hb.id.as_uuid();
    // A live ping through the ping API, with the usual payload (an empty one would be a
    // surprise of its own): ingest applies the model and writes learned deadlines.
    ping(&app, &hb, 512).await;
    let pinged = Utc::now();
    let after = app.reload(&scope, hb.id).await;
    assert_eq!(after.timing.status, Status::Up);
    let warn_at = after.timing.due_at.unwrap();
    let fixed_alert = after.timing.last_ping_at.unwrap() + Duration::seconds(EVERY_SECS + 100);
    assert!(
        warn_at < fixed_alert - Duration::seconds(30),
        "learned warning at {warn_at}, fixed alert at {fixed_alert}"
    );
    assert!(
        after.timing.cadence.learned().is_some(),
        "the row holds a learned cadence"
    );

    // Silence: the early warning arrives, before the fixed deadline, and nothing else yet.
    let got = hook
        .wait_for(1, PATIENCE + std::time::Duration::from_secs(60))
        .await;
    let warned = Utc::now();
    assert_eq!(
        got[0].json()["type"],
        "heartbeat.early_warning",
        "{}",
        got[0].json()
    );
    assert!(
        warned < fixed_alert,
        "warned at {warned}, fixed alert at {fixed_alert} (pinged {pinged})"
    );
    let reason = crate::reason(&got[0]);
    assert!(reason.contains("usually pings by"), "{reason}");
    assert_eq!(app.reload(&scope, hb.id).await.timing.status, Status::Late);
    let open = format!(
        "SELECT count(*) AS n FROM incidents WHERE heartbeat_id = '{id}' \
         AND kind = 'early_warning' AND resolved_at IS NULL"
    );
    assert_eq!(app.count(&open).await, 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_payload_warns_at_once_and_a_usual_one_is_back_on_track() {
    let (app, scope, hb, hook) = trained(false).await;
    ping(&app, &hb, 0).await;
    let got = hook.wait_for(1, PATIENCE).await;
    assert_eq!(
        got[0].json()["type"],
        "heartbeat.early_warning",
        "{}",
        got[0].json()
    );
    let reason = crate::reason(&got[0]);
    assert!(reason.contains("0-byte payload"), "{reason}");
    assert_eq!(app.reload(&scope, hb.id).await.timing.status, Status::Late);
    ping(&app, &hb, 512).await;
    let got = hook.wait_for(2, PATIENCE).await;
    assert_eq!(
        got[1].json()["type"],
        "heartbeat.back_on_track",
        "{}",
        got[1].json()
    );
    assert_eq!(app.reload(&scope, hb.id).await.timing.status, Status::Up);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_does_not_start_is_warned_before_its_success_is_due() {
    let (app, scope, hb, hook) = trained(true).await;
    let id = hb.id.as_uuid();
    let started = app.http.get(format!("{}/start", app.url(&hb))).send();
    assert_eq!(started.await.unwrap().status(), 200);
    ping(&app, &hb, 512).await;
    // The row waits for the next start first, and keeps the success's own warning beside it.
    let row = format!(
        "SELECT count(*) AS n FROM heartbeats WHERE id = '{id}' AND start_expected_by IS NOT NULL \
         AND due_at < finish_due_at AND finish_due_at < alert_at"
    );
    assert_eq!(app.count(&row).await, 1, "no start expectation stored");
    let waiting = app.reload(&scope, hb.id).await;
    let start = waiting.timing.cadence.learned().and_then(|l| l.start());
    assert!(start.is_some(), "{:?}", waiting.timing.cadence);

    // No run starts: the warning says so, before the success would have been missed.
    let got = hook
        .wait_for(1, PATIENCE + std::time::Duration::from_secs(60))
        .await;
    assert_eq!(got[0].json()["type"], "heartbeat.early_warning");
    let reason = crate::reason(&got[0]);
    assert!(reason.contains("no run has started"), "{reason}");
    let warned = app.reload(&scope, hb.id).await;
    assert_eq!(warned.timing.status, Status::Late);
    let finish_due = waiting.timing.last_ping_at.unwrap()
        + waiting.timing.cadence.learned().unwrap().warn_after();
    assert!(
        Utc::now() < finish_due + Duration::seconds(2),
        "warned after the success's own warning ({finish_due})"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_in_time_moves_the_warning_to_its_success() {
    let (app, scope, hb, _hook) = trained(true).await;
    let id = hb.id.as_uuid();
    let start = || app.http.get(format!("{}/start", app.url(&hb))).send();
    assert_eq!(start().await.unwrap().status(), 200);
    ping(&app, &hb, 512).await;
    let waiting = app.reload(&scope, hb.id).await;
    // Read back from the row: the success's own warning is `finish_due_at`.
    let finish_due = waiting.timing.last_ping_at.unwrap()
        + waiting.timing.cadence.learned().unwrap().warn_after();
    assert!(waiting.timing.due_at.unwrap() < finish_due);
    assert_eq!(start().await.unwrap().status(), 200);
    let running = app.reload(&scope, hb.id).await;
    assert_eq!(running.timing.due_at, Some(finish_due));
    assert_eq!(
        running.timing.cadence.learned().and_then(|l| l.start()),
        None
    );
    let cleared = format!(
        "SELECT count(*) AS n FROM heartbeats WHERE id = '{id}' \
         AND start_expected_by IS NULL AND finish_due_at IS NULL"
    );
    assert_eq!(app.count(&cleared).await, 1);
    app.stop().await;
}
