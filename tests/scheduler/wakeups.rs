//! The loops sleep until the next deadline or a wake-up, not on a poll: with the fallback poll
//! set to a minute, a new deadline and an alert queued by the ping API are still acted on at
//! once, because ingest publishes a wake-up on Redis.

use std::time::Duration;

use lifeline_domain::Plan;

use crate::support::TestApp;
use crate::support::notify_servers::HttpServer;

const POLL: Duration = Duration::from_secs(60);
/// Far less than the poll: only a wake-up explains an answer within it.
const PROMPTLY: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_deadlines_and_failure_alerts_wake_the_scheduler() {
    let mut app = TestApp::start().await;
    let mut settings = app.scheduler_settings();
    settings.max_sleep = POLL;
    app.start_scheduler(settings).await;
    // Let both loops go to sleep with nothing to do.
    tokio::time::sleep(Duration::from_secs(2)).await;

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
    tokio::time::sleep(Duration::from_secs(2)).await;
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
