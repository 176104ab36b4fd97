//! Our own outages are not the user's: while no ingest process can receive pings, deadlines are
//! held, and when pings can be received again they move by the length of the outage.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use lifeline_domain::{FlapPolicy, Plan, Status};
use lifeline_store::heartbeats::Heartbeat;
use lifeline_store::{StoreSettings, TeamScope, coverage, deadlines};
use lifeline_testkit::{HttpServer, PATIENCE, TestApp, local_settings, via, wait_for, wait_until};

/// Lifeline takes a hole in its beacons for its own outage after this: the shortest allowed
/// (five beacons), so that a short outage proves what a long one would.
const BLIND_AFTER: Duration = Duration::from_millis(1_000);
/// The job is expected every second, at most a second late: any outage of more than 2 s would
/// take it down if it were held against it.
const INTERVAL_SECS: i64 = 1;
const GRACE_SECS: i64 = 1;
/// The job pings this often, whether or not anyone is listening.
const PING_EVERY: Duration = Duration::from_millis(500);

fn brisk(mut store: StoreSettings) -> StoreSettings {
    store.blind_after = BLIND_AFTER;
    store
}

/// The job: pings every `PING_EVERY`, whether or not anyone is listening.
fn keep_pinging(app: &TestApp, hb: &Heartbeat) -> tokio::task::JoinHandle<()> {
    let (http, url) = (app.http.clone(), app.url(hb));
    tokio::spawn(async move {
        loop {
            let _ = http.get(&url).send().await;
            tokio::time::sleep(PING_EVERY).await;
        }
    })
}

/// A pinging job with a webhook, up.
async fn pinging_job(
    app: &TestApp,
) -> (
    TeamScope,
    Heartbeat,
    HttpServer,
    tokio::task::JoinHandle<()>,
) {
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, INTERVAL_SECS, GRACE_SECS).await;
    let hook = HttpServer::ok().await;
    app.webhook(&scope, &hb, &hook.url("/hook")).await;
    let job = keep_pinging(app, &hb);
    assert_eq!(
        app.wait_status(&scope, hb.id, Status::Up, PATIENCE).await,
        Status::Up
    );
    (scope, hb, hook, job)
}

/// A second job, pinged once right before an outage of `outage` and due inside it: only moving
/// its deadline by the hole's length keeps it up, and no later ping can hide a mistake.
async fn quiet_job(app: &TestApp, scope: &TeamScope, outage: Duration) -> Heartbeat {
    let interval = i64::try_from(outage.as_secs()).unwrap();
    let quiet = app.heartbeat(scope, interval, 0).await;
    assert_eq!(app.get_status(app.url(&quiet)).await, 200);
    app.reload(scope, quiet.id).await
}

/// The quiet job's deadline moved by exactly the recorded hole. It is up, or — when the test
/// ran long enough for the moved deadline to pass as well — went down exactly at that moved
/// deadline, never at the original one.
async fn moved_by_the_hole(
    app: &TestApp,
    scope: &TeamScope,
    quiet: &Heartbeat,
    recorded: &coverage::Outage,
) {
    let hole = recorded.ended_at - recorded.started_at;
    let moved = quiet.timing.alert_at.unwrap() + hole;
    let now = app.reload(scope, quiet.id).await;
    match now.timing.status {
        Status::Up => assert_eq!(now.timing.alert_at, Some(moved)),
        Status::Down => {
            let at_the_moved_deadline = format!(
                "SELECT count(*) AS n FROM incidents WHERE heartbeat_id = '{}' \
                 AND deadline_at = '{}'",
                quiet.id,
                moved.to_rfc3339()
            );
            assert_eq!(
                app.count(&at_the_moved_deadline).await,
                1,
                "down, but not at its deadline moved by {hole}"
            );
        }
        other => panic!("the quiet job is {other}"),
    }
}

/// Waits until the scheduler has closed the hole, then until it has provably decided deadlines
/// past the hole's end: a second heartbeat, pinged once now, goes down. (A deadline the hole
/// failed to move would have been decided in the first pass after it.)
async fn hole_closed_and_decided_past(app: &TestApp, scope: &TeamScope) {
    let recorded = wait_for(
        PATIENCE,
        async || {
            coverage::recent_outages(&mut app.conn().await, 10)
                .await
                .unwrap()
        },
        |outages| !outages.is_empty(),
    )
    .await;
    if recorded.is_empty() {
        let coverage = coverage::current(&mut app.conn().await).await.unwrap();
        let beacons = app.count("SELECT count(*) AS n FROM ingest_beacons").await;
        panic!("the outage was never recorded: {coverage:?}, {beacons} beacon rows");
    }
    let witness = app.heartbeat(scope, 1, 0).await;
    let pinged = wait_until(PATIENCE, async || {
        app.get_status(app.url(&witness)).await == 200
    })
    .await;
    assert!(pinged, "pings are not received again");
    assert_eq!(
        app.wait_status(scope, witness.id, Status::Down, PATIENCE)
            .await,
        Status::Down,
        "the scheduler decides deadlines again"
    );
}

/// Checks that the heartbeat never went down and nothing was sent, and returns the one
/// outage recorded.
async fn no_false_down(app: &TestApp, hb: &Heartbeat, hook: &HttpServer) -> coverage::Outage {
    let seen = app.transitions(hb.id).await;
    assert!(!seen.iter().any(|(_, to)| *to == Status::Down), "{seen:?}");
    assert_eq!(hook.requests().len(), 0, "no alert for our own outage");
    let mut outages = coverage::recent_outages(&mut app.conn().await, 10)
        .await
        .unwrap();
    assert_eq!(outages.len(), 1, "{outages:?}");
    outages.remove(0)
}

/// The recorded outage spans the real one: it starts at the last beacon before it (no later
/// than `began`, no earlier than a blind period before `began` started to happen, `starting`) and
/// ends with the first beacon after it (no earlier than `ended`, and soon after).
fn spans(
    recorded: &coverage::Outage,
    starting: DateTime<Utc>,
    began: DateTime<Utc>,
    ended: DateTime<Utc>,
) {
    let blind = chrono::Duration::from_std(BLIND_AFTER).unwrap();
    assert!(
        starting - blind <= recorded.started_at && recorded.started_at <= began,
        "{recorded:?} should start between {} and {began}",
        starting - blind
    );
    assert!(
        ended <= recorded.ended_at && recorded.ended_at <= ended + chrono::Duration::seconds(3),
        "{recorded:?} should end soon after {ended}"
    );
}

/// The real thing: ingest stops while a job keeps trying to ping; the scheduler runs
/// throughout. Set `OUTAGE_SECS` to try other lengths (the default is twice the time the job
/// may go without a ping).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingest_outage_brings_no_false_down() {
    let outage = Duration::from_secs(
        std::env::var("OUTAGE_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(4),
    );
    let mut app = TestApp::start_with(local_settings(), brisk).await;
    app.start_scheduler(app.scheduler_settings()).await;
    let (scope, hb, hook, job) = pinging_job(&app).await;
    let quiet = quiet_job(&app, &scope, outage).await;

    let stopping = Utc::now();
    let addr = app.stop_ingest().await;
    let stopped = Utc::now();
    tokio::time::sleep(outage).await;
    let restarting = Utc::now();
    app.restart_ingest(addr).await;
    hole_closed_and_decided_past(&app, &scope).await;
    job.abort();

    assert_eq!(app.reload(&scope, hb.id).await.timing.status, Status::Up);
    let recorded = no_false_down(&app, &hb, &hook).await;
    spans(&recorded, stopping, stopped, restarting);
    let gap = (recorded.ended_at - recorded.started_at).to_std().unwrap();
    assert!(
        gap >= outage,
        "recorded gap {gap:?} for an outage of {outage:?}"
    );
    assert_eq!(recorded.shifted_heartbeats, 2, "the job and the quiet one");
    moved_by_the_hole(&app, &scope, &quiet, &recorded).await;

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
    let pass = deadlines::process_due(&mut conn, until, Utc::now(), 100, &FlapPolicy::default())
        .await
        .unwrap();
    assert_eq!(pass.down, 1);
    assert_eq!(
        app.reload(&scope, before.id).await.timing.status,
        Status::Down
    );
    let inside = app.reload(&scope, inside.id).await;
    assert_eq!(inside.timing.status, Status::Up);
    assert_eq!(
        inside.timing.alert_at.unwrap().to_rfc3339(),
        at(150),
        "moved by the 60 s hole"
    );
    // Advancing again closes nothing twice.
    let again = coverage::advance(&mut conn, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(again.outages.is_empty());
    // Without any beacon after the hole, Lifeline is blind and decides nothing past coverage.
    assert!(again.blind_at(again.now, Duration::from_secs(5)));
}

/// Postgres unreachable for Lifeline (ingest and scheduler both go through the cut link) for
/// longer than the blind threshold: the pings lost meanwhile are not held against the job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_brings_no_false_down() {
    let cut_for = Duration::from_secs(3);
    let pg = lifeline_testkit::chaos::postgres_proxy().await;
    let pg_addr = pg.addr;
    let mut app = TestApp::start_with(local_settings(), move |s| {
        let mut s = brisk(s);
        s.database_url = via(&s.database_url, pg_addr);
        s
    })
    .await;
    app.start_scheduler(app.scheduler_settings()).await;
    let (scope, hb, hook, job) = pinging_job(&app).await;
    let quiet = quiet_job(&app, &scope, cut_for).await;

    let cutting = Utc::now();
    pg.cut();
    let cut = Utc::now();
    tokio::time::sleep(cut_for).await;
    let restoring = Utc::now();
    pg.restore();
    hole_closed_and_decided_past(&app, &scope).await;
    job.abort();

    let recorded = no_false_down(&app, &hb, &hook).await;
    spans(&recorded, cutting, cut, restoring);
    assert!((recorded.ended_at - recorded.started_at).to_std().unwrap() >= cut_for);
    assert_eq!(recorded.shifted_heartbeats, 2, "the job and the quiet one");
    moved_by_the_hole(&app, &scope, &quiet, &recorded).await;
    app.stop().await;
}
