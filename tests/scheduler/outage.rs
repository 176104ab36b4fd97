//! Our own outages are not the user's: while no ingest process can receive pings, deadlines are
//! held, and when pings can be received again they move by the length of the outage.

use std::time::Duration;

use chrono::{SubsecRound, Utc};
use lifeline_domain::Plan;
use lifeline_store::{coverage, deadlines};

use crate::support::TestApp;
use crate::support::notify_servers::HttpServer;
use crate::{PATIENCE, transitions};

/// The job: pings every 2 s, whether or not anyone is listening.
fn keep_pinging(
    app: &TestApp,
    hb: &lifeline_store::heartbeats::Heartbeat,
) -> tokio::task::JoinHandle<()> {
    let (http, url) = (app.http.clone(), app.url(hb));
    tokio::spawn(async move {
        loop {
            let _ = http.get(&url).send().await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    })
}

/// Checks that the heartbeat never went down and nothing was sent, and returns the one
/// outage recorded.
async fn no_false_down(
    app: &TestApp,
    hb: &lifeline_store::heartbeats::Heartbeat,
    hook: &HttpServer,
) -> coverage::Outage {
    let seen = transitions(app, hb.id).await;
    assert!(!seen.iter().any(|t| t.ends_with(">down")), "{seen:?}");
    assert_eq!(hook.requests().len(), 0, "no alert for our own outage");
    let mut outages = coverage::recent_outages(&mut app.conn().await, 10)
        .await
        .unwrap();
    assert_eq!(outages.len(), 1, "{outages:?}");
    outages.remove(0)
}

/// The real thing: ingest stops for a minute while a job keeps trying to ping every 2 s; the
/// scheduler runs throughout. Set `OUTAGE_SECS` to try other lengths.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingest_outage_of_a_minute_brings_no_false_down() {
    let outage: u64 = std::env::var("OUTAGE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let mut app = TestApp::with_scheduler().await;
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, 3, 2).await;
    let hook = HttpServer::ok().await;
    app.webhook(&scope, &hb, &hook.url("/hook")).await;
    let job = keep_pinging(&app, &hb);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(app.reload(&scope, hb.id).await.status.as_str(), "up");

    let addr = app.stop_ingest().await;
    let stopped = Utc::now();
    tokio::time::sleep(Duration::from_secs(outage)).await;
    app.restart_ingest(addr).await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    job.abort();

    assert_eq!(app.reload(&scope, hb.id).await.status.as_str(), "up");
    let recorded = no_false_down(&app, &hb, &hook).await;
    let gap = (recorded.ended_at - recorded.started_at).num_seconds();
    assert!(
        (outage as i64 - 2..=outage as i64 + 3).contains(&gap),
        "recorded gap {gap} s for an outage of {outage} s"
    );
    assert!(recorded.started_at <= stopped + chrono::Duration::seconds(1));
    assert_eq!(recorded.shifted_heartbeats, 1);

    // Monitoring goes on afterwards: when the job really stops, the alert comes.
    assert_eq!(hook.wait_for(1, PATIENCE).await.len(), 1);
    app.stop().await;
}

/// The decision rule on its own, with beacons written by hand: a heartbeat whose deadline fell
/// inside a hole is shifted, one whose deadline came before the hole goes down as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_inside_a_hole_move_by_its_length() {
    let mut app = TestApp::start().await;
    app.stop_ingest().await;
    let scope = app.team(Plan::Free).await;
    let before = app.heartbeat(&scope, 60, 0).await;
    let inside = app.heartbeat(&scope, 60, 0).await;
    let t0 = Utc::now().trunc_subsecs(0) - chrono::Duration::minutes(10);
    let at = |s: i64| (t0 + chrono::Duration::seconds(s)).to_rfc3339();
    // `before` was due at t0+30 (covered), `inside` at t0+90 (in the hole t0+60 .. t0+120).
    app.sql(&format!(
        "DELETE FROM ingest_beacons; UPDATE coverage SET covered_until = NULL;
         UPDATE heartbeats SET status = 'up', last_ping_at = '{p1}', due_at = '{d1}', alert_at = '{d1}', next_check_at = '{d1}' WHERE id = '{b}';
         UPDATE heartbeats SET status = 'up', last_ping_at = '{p2}', due_at = '{d2}', alert_at = '{d2}', next_check_at = '{d2}' WHERE id = '{i}';
         INSERT INTO ingest_beacons VALUES (gen_random_uuid(), '{s0}', '{s1}'), (gen_random_uuid(), '{s2}', '{s3}');",
        p1 = at(-30), d1 = at(30), p2 = at(30), d2 = at(90),
        b = before.id, i = inside.id,
        s0 = at(0), s1 = at(60), s2 = at(120), s3 = at(140),
    ))
    .await;
    let mut conn = app.conn().await;
    let state = coverage::advance(&mut conn, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(state.outages.len(), 1);
    assert_eq!(state.outages[0].shifted_heartbeats, 1);
    assert_eq!(state.covered_until.unwrap().to_rfc3339(), at(140));
    let until = state.covered_until.unwrap();
    let pass = deadlines::process_due(&mut conn, until, Utc::now(), 100)
        .await
        .unwrap();
    assert_eq!(pass.down, 1);
    assert_eq!(app.reload(&scope, before.id).await.status.as_str(), "down");
    let inside = app.reload(&scope, inside.id).await;
    assert_eq!(inside.status.as_str(), "up");
    assert_eq!(
        inside.alert_at.unwrap().to_rfc3339(),
        at(150),
        "moved by the 60 s hole"
    );
    // Advancing again closes nothing twice.
    let again = coverage::advance(&mut conn, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(again.outages.is_empty());
    // Without any beacon after the hole, Lifeline is blind and decides nothing past coverage.
    assert!(again.blind_at(Utc::now(), Duration::from_secs(5)));
}

/// Postgres unreachable for Lifeline (ingest and scheduler both go through the cut link) for
/// longer than the blind threshold: the pings lost meanwhile are not held against the job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_brings_no_false_down() {
    let pg = crate::support::chaos::postgres_proxy().await;
    let pg_addr = pg.addr;
    let through_proxy = move |mut s: lifeline_store::StoreSettings| {
        s.database_url = crate::support::via(&s.database_url, pg_addr);
        s
    };
    let mut app = TestApp::start_with(crate::support::local_settings(), through_proxy).await;
    let settings = app.scheduler_settings();
    let store = through_proxy(app.db.settings.clone());
    app.start_scheduler_on(settings, store).await;
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, 3, 2).await;
    let hook = HttpServer::ok().await;
    app.webhook(&scope, &hb, &hook.url("/hook")).await;
    let job = keep_pinging(&app, &hb);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(app.reload(&scope, hb.id).await.status.as_str(), "up");

    pg.cut();
    tokio::time::sleep(Duration::from_secs(12)).await;
    pg.restore();
    tokio::time::sleep(Duration::from_secs(8)).await;
    job.abort();

    let recorded = no_false_down(&app, &hb, &hook).await;
    assert!((recorded.ended_at - recorded.started_at).num_seconds() >= 10);
    app.stop().await;
}
