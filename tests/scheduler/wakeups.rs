//! The loops sleep until the next deadline or a wake-up, not on a poll: with the fallback poll
//! set to a minute, a new deadline and an alert queued by the ping API are still acted on at
//! once, because ingest publishes a wake-up on Redis.

use std::time::Duration;

use lifeline_domain::Plan;

use lifeline_testkit::{HttpServer, PATIENCE, TestApp};

use crate::settled;

const POLL: Duration = Duration::from_secs(60);
/// Far less than the poll: only a wake-up explains an answer within it.
const PROMPTLY: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_deadlines_and_failure_alerts_wake_the_scheduler() {
    let mut app = TestApp::start().await;
    let mut settings = app.scheduler_settings();
    settings.max_sleep = POLL;
    // A claimed notification is looked at again when its lease (twice the send timeout, and a
    // second) runs out: that too must be far off, or a timer could explain a prompt delivery.
    settings.notify.timeout = POLL;
    app.start_scheduler(settings).await;
    // Both loops have nothing to do, so their first pass ends in a sleep of the whole poll;
    // the deadline loop's pass shows in the coverage it takes from ingest's beacons.
    let covered = "SELECT count(*) AS n FROM coverage WHERE covered_until IS NOT NULL";
    assert_eq!(app.wait_count(covered, 1, PATIENCE).await, 1);

    let scope = app.team(Plan::Free).await;
    let silent = app.heartbeat(&scope, 1, 0).await;
    let failing = app.heartbeat(&scope, 3600, 0).await;
    let hook = HttpServer::ok().await;
    app.webhook(&scope, &silent, &format!("{}/silent", hook.url("/hook")))
        .await;
    app.webhook(&scope, &failing, &format!("{}/failing", hook.url("/hook")))
        .await;

    // A first ping gives `silent` a deadline one second away: the scheduler must wake for it.
    assert_eq!(app.get_status(app.url(&silent)).await, 200);
    let alerts = hook.wait_for(1, PROMPTLY).await;
    assert_eq!(
        alerts.len(),
        1,
        "the deadline loop slept through a new deadline"
    );
    assert_eq!(alerts[0].path, "/hook/silent");

    // A failure signal queues its alert in the ping's own transaction: delivery must wake.
    // (Once nothing is pending or being sent, the delivery loop sleeps for the whole poll.)
    settled(&app).await;
    assert_eq!(
        app.get_status(format!("{}/1", app.url(&failing))).await,
        200
    );
    let alerts = hook.wait_for(2, PROMPTLY).await;
    assert_eq!(
        alerts.len(),
        2,
        "the delivery loop slept through a queued alert"
    );
    assert_eq!(alerts[1].path, "/hook/failing");
    let why = crate::reason(&alerts[1]);
    assert!(why.contains("exit code 1"), "{why}");
    app.stop().await;
}
