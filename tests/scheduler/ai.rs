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
/// model (the analyzer running in the app).
async fn trained() -> (TestApp, TeamScope, Heartbeat, HttpServer) {
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
    let (app, scope, hb, hook) = trained().await;
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
    let (app, scope, hb, hook) = trained().await;
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
