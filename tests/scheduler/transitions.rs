//! Every status transition, end to end: pings through the real ping API, decisions and alerts
//! by the real scheduler loops, deliveries to a real local webhook receiver.

use lifeline_domain::Plan;

use crate::support::TestApp;
use crate::support::notify_servers::HttpServer;
use crate::{PATIENCE, reason, transitions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_late_down_recovered_failed_paused() {
    let app = TestApp::with_scheduler().await;
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, 1, 1).await;
    let silent = app.heartbeat(&scope, 1, 0).await;
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
    assert_eq!(app.reload(&scope, hb.id).await.status.as_str(), "up");
    // Interval passed: late, no alert yet. Grace passed: down, incident, alert.
    assert_eq!(app.wait_count(&incidents(true), 1, PATIENCE).await, 1);
    assert_eq!(
        transitions(&app, hb.id).await,
        ["new>up", "up>late", "late>down"]
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
    assert_eq!(app.reload(&scope, hb.id).await.status.as_str(), "down");
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
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(app.reload(&scope, hb.id).await.status.as_str(), "paused");
    assert_eq!(hook.delivered().len(), 3, "no recovery notice for a pause");
    assert_eq!(
        transitions(&app, hb.id).await,
        [
            "new>up",
            "up>late",
            "late>down",
            "down>up",
            "up>down",
            "down>paused"
        ]
    );
    // A heartbeat that never pinged stays new: it has no deadline.
    assert_eq!(app.reload(&scope, silent.id).await.status.as_str(), "new");
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
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(
        (a.requests().len(), b.requests().len()),
        (1, 1),
        "nothing sent twice"
    );
    app.stop().await;
}
