//! Every status transition, end to end: pings through the real ping API, decisions and alerts
//! by the real scheduler loops, deliveries to a real local webhook receiver.

use lifeline_domain::{Plan, Status};
use lifeline_testkit::{HttpServer, PATIENCE, TestApp};

use crate::{reason, settled};

use Status::{Down, Late, New, Paused, Up};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_late_down_recovered_failed_paused() {
    let app = TestApp::with_scheduler().await;
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, 1, 1).await;
    let hook = HttpServer::ok().await;
    app.webhook(&scope, &hb, &hook.url("/hook")).await;
    let id = hb.id.as_uuid();
    let incidents = |open: bool| {
        format!(
            "SELECT count(*) AS n FROM incidents WHERE heartbeat_id = '{id}' AND resolved_at IS {}NULL",
            if open { "" } else { "NOT " }
        )
    };

    assert_eq!(app.get_status(app.url(&hb)).await, 200);
    assert_eq!(app.reload(&scope, hb.id).await.timing.status, Up);
    // Interval passed: late, no alert yet. Grace passed: down, incident, alert.
    assert_eq!(app.wait_count(&incidents(true), 1, PATIENCE).await, 1);
    assert_eq!(
        app.transitions(hb.id).await,
        [(New, Up), (Up, Late), (Late, Down)]
    );
    let alert = hook.wait_for(1, PATIENCE).await;
    assert_eq!(alert.len(), 1, "exactly one alert");
    assert_eq!(alert[0].json()["type"], "heartbeat.down");
    assert_eq!(alert[0].json()["heartbeat"]["name"], "job");
    let why = reason(&alert[0]);
    assert!(why.contains("no ping since"), "{why}");
    assert!(
        alert[0]
            .header("lifeline-signature")
            .unwrap()
            .starts_with("sha256=")
    );

    // A ping recovers it: incident resolved, recovery notice on the same channel.
    assert_eq!(app.get_status(app.url(&hb)).await, 200);
    assert_eq!(app.count(&incidents(true)).await, 0);
    assert_eq!(app.count(&incidents(false)).await, 1);
    let notices = hook.wait_for(2, PATIENCE).await;
    assert_eq!(notices[1].json()["type"], "heartbeat.up");

    // A failure signal takes it down at once, with a new incident and alert.
    assert_eq!(app.get_status(format!("{}/fail", app.url(&hb))).await, 200);
    assert_eq!(app.reload(&scope, hb.id).await.timing.status, Down);
    assert_eq!(app.count(&incidents(true)).await, 1);
    let notices = hook.wait_for(3, PATIENCE).await;
    assert_eq!(notices[2].json()["type"], "heartbeat.down");
    let why = reason(&notices[2]);
    assert!(why.contains("reported failure"), "{why}");

    // Pausing closes the incident quietly and stops the clock.
    let mut conn = app.conn().await;
    lifeline_store::heartbeats::pause(&mut conn, &scope, hb.id)
        .await
        .unwrap();
    assert_eq!(app.count(&incidents(true)).await, 0);
    // Had the clock kept running, `hb` would have been due 2 s after its last ping at the
    // latest. A witness pinged now on a 2 s schedule going down proves that the scheduler has
    // decided deadlines past that point.
    let witness = app.heartbeat(&scope, 2, 0).await;
    assert_eq!(app.get_status(app.url(&witness)).await, 200);
    assert_eq!(
        app.wait_status(&scope, witness.id, Down, PATIENCE).await,
        Down
    );
    settled(&app).await;
    assert_eq!(app.reload(&scope, hb.id).await.timing.status, Paused);
    assert_eq!(hook.delivered().len(), 3, "no recovery notice for a pause");
    assert_eq!(
        app.transitions(hb.id).await,
        [
            (New, Up),
            (Up, Late),
            (Late, Down),
            (Down, Up),
            (Up, Down),
            (Down, Paused)
        ]
    );
    app.stop().await;
}

/// A heartbeat that never pinged has no deadline: it stays new, whatever time passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heartbeat_that_never_pinged_stays_new() {
    let app = TestApp::with_scheduler().await;
    let scope = app.team(Plan::Free).await;
    let silent = app.heartbeat(&scope, 1, 0).await;
    let hook = HttpServer::ok().await;
    app.webhook(&scope, &silent, &hook.url("/hook")).await;
    // A witness made and pinged after it, on the same schedule: once the scheduler has taken
    // the witness down, it has decided every deadline `silent` could have had by then.
    let witness = app.heartbeat(&scope, 1, 0).await;
    assert_eq!(app.get_status(app.url(&witness)).await, 200);
    assert_eq!(
        app.wait_status(&scope, witness.id, Down, PATIENCE).await,
        Down
    );
    settled(&app).await;
    assert_eq!(app.reload(&scope, silent.id).await.timing.status, New);
    let changes = app.transitions(silent.id).await;
    assert!(changes.is_empty(), "{changes:?}");
    assert_eq!(hook.requests().len(), 0, "nothing to alert about");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heartbeat_with_two_channels_alerts_both_once() {
    let app = TestApp::with_scheduler().await;
    let scope = app.team(Plan::Standard).await;
    let hb = app.heartbeat(&scope, 1, 0).await;
    let (a, b) = (HttpServer::ok().await, HttpServer::ok().await);
    app.webhook(&scope, &hb, &a.url("/hook")).await;
    app.channel(&scope, &hb, "slack", &b.url("/hook"), None)
        .await;
    assert_eq!(app.get_status(app.url(&hb)).await, 200);
    assert_eq!(a.wait_for(1, PATIENCE).await.len(), 1);
    let slack = b.wait_for(1, PATIENCE).await;
    assert_eq!(slack.len(), 1);
    let body = slack[0].json();
    let text = body["text"].as_str().unwrap();
    assert!(
        text.contains("job") && text.contains("/heartbeats/"),
        "{text}"
    );
    settled(&app).await;
    assert_eq!(
        (a.requests().len(), b.requests().len()),
        (1, 1),
        "nothing sent twice"
    );
    app.stop().await;
}

/// `lifeline_scheduler_transitions_total{to, cause}` as `/metrics` at `url` gives it (0 when
/// absent).
async fn counted(url: &str, to: &str, cause: &str) -> f64 {
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("lifeline_scheduler_transitions_total{"))
        .filter(|l| {
            l.contains(&format!("to=\"{to}\"")) && l.contains(&format!("cause=\"{cause}\""))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The ping writer decides a failure reported by a ping, so the ingest process counts it, on its
/// own `/metrics`, with its cause: a dashboard watching `to="down"` sees every failure, not
/// only missed deadlines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_ping_is_counted_by_the_ingest_process_with_its_cause() {
    use lifeline_testkit::{Lifeline, Role, wait_until};

    let app = TestApp::start().await;
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, 3600, 600).await;
    let ingest = Lifeline::new(env!("CARGO_BIN_EXE_lifeline"), &app.db.settings)
        .start(Role::Ingest)
        .await;
    let metrics = format!("http://{}/metrics", ingest.ingest_ops.unwrap());
    let url = hb.ping_url(&ingest.base());
    assert_eq!(counted(&metrics, "down", "fail_ping").await, 0.0);

    assert_eq!(app.get_status(format!("{url}/fail")).await, 200);
    assert_eq!(app.reload(&scope, hb.id).await.timing.status, Down);
    let once = wait_until(PATIENCE, async || {
        counted(&metrics, "down", "fail_ping").await == 1.0
    })
    .await;
    assert!(
        once,
        "{}",
        reqwest::get(&metrics).await.unwrap().text().await.unwrap()
    );

    // Back up by a ping, then down by an exit code: each counted with its own cause.
    assert_eq!(app.get_status(&url).await, 200);
    assert_eq!(app.get_status(format!("{url}/3")).await, 200);
    assert_eq!(app.reload(&scope, hb.id).await.timing.status, Down);
    assert_eq!(counted(&metrics, "up", "ping").await, 1.0);
    assert_eq!(counted(&metrics, "down", "exit_code").await, 1.0);
    assert_eq!(counted(&metrics, "down", "fail_ping").await, 1.0);
    // A second failure while down changes nothing, and counts nothing.
    assert_eq!(app.get_status(format!("{url}/fail")).await, 200);
    assert_eq!(counted(&metrics, "down", "fail_ping").await, 1.0);
    assert!(ingest.stop().await.success());
    app.stop().await;
}
