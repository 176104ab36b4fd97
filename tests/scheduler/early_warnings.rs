//! AI heartbeats' early warnings end to end: learned deadlines stored through the store (as the
//! analyzer stores a trained model's), pings through the real ping API, decisions and notices by
//! the real scheduler loops, deliveries to a real local webhook receiver.

use chrono::{Duration, Utc};
use lifeline_domain::{
    Cadence, HeartbeatTiming, LearnedCadence, Plan, Schedule, Status, TimeZoneName,
};
use lifeline_store::heartbeats::Heartbeat;
use lifeline_store::wake::{self, Wake};
use lifeline_store::{TeamScope, ai_models, redis_conn, teams};
use lifeline_testkit::{HttpServer, PATIENCE, TestApp};

use crate::{reason, settled};

use Status::{Down, Late, New, Up};

/// An AI heartbeat of a Premium team in Paris, whose fixed schedule (hourly) would not alert
/// during the test, with a webhook channel at `hook`; pinged once through the ping API.
async fn pinged_ai_heartbeat(app: &TestApp, hook: &HttpServer) -> (TeamScope, Heartbeat) {
    let scope = app.team(Plan::Premium).await;
    let paris = TimeZoneName::parse("Europe/Paris").unwrap();
    teams::set_time_zone(&mut app.conn().await, &scope, paris)
        .await
        .unwrap();
    let hb = app.heartbeat(&scope, 3600, 600).await;
    app.webhook(&scope, &hb, &hook.url("/hook")).await;
    // Turning AI mode on is the dashboard's to offer; here the column is set directly.
    app.sql(&format!(
        "UPDATE heartbeats SET mode = 'ai' WHERE id = '{}'",
        hb.id.as_uuid()
    ))
    .await;
    assert_eq!(app.get_status(app.url(&hb)).await, 200);
    (scope, hb)
}

/// What the analyzer does once it has trained a model: store the learned cadence (counted from
/// the last ping) and wake the scheduler, whose deadline moved earlier.
async fn learn(app: &TestApp, scope: &TeamScope, hb: &Heartbeat, cadence: Cadence) -> Heartbeat {
    let next = Utc::now() + Duration::days(1);
    let recount = |t: &HeartbeatTiming| t.decide_relearn(cadence, Utc::now());
    ai_models::save_trained(&mut app.conn().await, hb.id, None, next, recount)
        .await
        .unwrap()
        .expect("an AI heartbeat");
    let mut redis = redis_conn::connect(&app.db.settings).unwrap();
    let woken = Wake {
        deadlines: true,
        deliveries: false,
    };
    wake::publish(&mut redis, &app.keys(), woken).await;
    app.reload(scope, hb.id).await
}

/// Usually within `expected` seconds of the last ping, warned after `warn`, down after `down`.
fn learned(expected: i64, warn: i64, down: i64) -> Cadence {
    let s = Duration::seconds;
    let hourly = Schedule::from_secs(3600, 600).unwrap();
    Cadence::Learned(LearnedCadence::new(s(expected), s(warn), s(down), hourly).unwrap())
}

/// The incidents of a heartbeat of `kind` that are open (or resolved).
fn incidents(hb: &Heartbeat, kind: &str, open: bool) -> String {
    format!(
        "SELECT count(*) AS n FROM incidents WHERE heartbeat_id = '{}' AND kind = '{kind}' \
         AND resolved_at IS {}NULL",
        hb.id.as_uuid(),
        if open { "" } else { "NOT " }
    )
}

const RECOVERIES: &str = "SELECT count(*) AS n FROM notifications WHERE kind = 'recovery'";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_warns_once_at_the_learned_deadline_then_goes_down() {
    let app = TestApp::with_scheduler().await;
    let hook = HttpServer::ok().await;
    let (scope, hb) = pinged_ai_heartbeat(&app, &hook).await;
    // Warned 2 s after the ping, down after 8 s: room enough for the warning to be decided and
    // delivered well before the down deadline.
    let hb = learn(&app, &scope, &hb, learned(1, 2, 8)).await;
    let (warn_at, down_at) = (hb.timing.due_at.unwrap(), hb.timing.alert_at.unwrap());

    let warning = hook.wait_for(1, PATIENCE).await;
    assert_eq!(warning[0].json()["type"], "heartbeat.early_warning");
    assert!(
        warn_at <= warning[0].at && warning[0].at < down_at,
        "warned at {}, between {warn_at} and {down_at}",
        warning[0].at
    );
    assert_eq!(warning[0].json()["heartbeat"]["status"], "late");
    // What was learned and what happens next, on the team's clock.
    let why = reason(&warning[0]);
    let paris = warn_at.with_timezone(&chrono_tz::Europe::Paris);
    assert!(why.starts_with("usually pings by "), "{why}");
    assert!(why.contains(&paris.format("%Z").to_string()), "{why}");
    assert!(
        why.contains(&format!("it is {} with no ping", paris.format("%H:%M"))),
        "{why}"
    );
    assert!(why.contains("— it will be marked down at "), "{why}");
    assert!(!why.contains("UTC"), "{why}");

    let both = hook.wait_for(2, PATIENCE).await;
    assert_eq!(both[1].json()["type"], "heartbeat.down");
    assert!(
        both[1].at >= down_at,
        "down at {}, not before {down_at}",
        both[1].at
    );
    settled(&app).await;
    assert_eq!(
        hook.delivered().len(),
        2,
        "one warning, one alert, nothing else"
    );
    assert_eq!(app.count(&incidents(&hb, "early_warning", false)).await, 1);
    assert_eq!(app.count(&incidents(&hb, "early_warning", true)).await, 0);
    assert_eq!(app.count(&incidents(&hb, "down", true)).await, 1);
    assert_eq!(app.count(RECOVERIES).await, 0, "the warning closed quietly");
    assert_eq!(
        app.transitions(hb.id).await,
        [(New, Up), (Up, Late), (Late, Down)]
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_after_the_warning_is_back_on_track_and_never_down() {
    let app = TestApp::with_scheduler().await;
    let hook = HttpServer::ok().await;
    let (scope, hb) = pinged_ai_heartbeat(&app, &hook).await;
    let hb = learn(&app, &scope, &hb, learned(1, 2, 8)).await;
    let first_down_at = hb.timing.alert_at.unwrap();

    let warning = hook.wait_for(1, PATIENCE).await;
    assert_eq!(warning[0].json()["type"], "heartbeat.early_warning");
    assert_eq!(app.reload(&scope, hb.id).await.timing.status, Late);
    assert_eq!(app.get_status(app.url(&hb)).await, 200);
    let notices = hook.wait_for(2, PATIENCE).await;
    assert_eq!(notices[1].json()["type"], "heartbeat.back_on_track");
    assert_eq!(notices[1].json()["heartbeat"]["status"], "up");
    let why = reason(&notices[1]);
    assert!(why.contains("the early warning is over"), "{why}");
    // The analyzer retrains on the new ping; its next period is far off.
    learn(&app, &scope, &hb, learned(3600, 3700, 7200)).await;

    // A witness pinged now that goes down after the first period's down deadline proves the
    // scheduler has decided past it.
    let wait = (first_down_at - Utc::now()).num_seconds().max(0) + 1;
    let witness = app.heartbeat(&scope, wait, 0).await;
    assert_eq!(app.get_status(app.url(&witness)).await, 200);
    assert_eq!(
        app.wait_status(&scope, witness.id, Down, PATIENCE).await,
        Down
    );
    settled(&app).await;
    assert_eq!(app.reload(&scope, hb.id).await.timing.status, Up);
    let types: Vec<_> = hook
        .delivered()
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        types,
        ["heartbeat.early_warning", "heartbeat.back_on_track"]
    );
    assert_eq!(app.count(&incidents(&hb, "down", true)).await, 0);
    assert_eq!(app.count(&incidents(&hb, "early_warning", false)).await, 1);
    assert_eq!(
        app.transitions(hb.id).await,
        [(New, Up), (Up, Late), (Late, Up)]
    );
    app.stop().await;
}
