//! A ping arriving at the deadline, in both orders. The interleavings are made deterministic by
//! driving the writer's batch transaction and the scheduler's decision by hand.

use chrono::Duration;
use lifeline_domain::{FlapPolicy, Plan, Status};
use lifeline_store::deadlines;
use lifeline_store::pings;
use lifeline_testkit::{HttpServer, PATIENCE, Reply, TestApp, success_ping};

const NOTIFICATIONS: &str = "SELECT count(*) AS n FROM notifications";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_in_flight_at_the_deadline_wins_and_nothing_alerts() {
    let app = TestApp::start().await;
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, 60, 0).await;
    app.webhook(&scope, &hb, "http://127.0.0.1:9/never").await;
    assert_eq!(app.get_status(app.url(&hb)).await, 200);
    let deadline = app.reload(&scope, hb.id).await.timing.alert_at.unwrap();

    // The writer has staged a ping received just before the deadline, not yet committed...
    let mut writer = app.conn().await;
    let staged = pings::stage_batch(
        &mut writer,
        &[success_ping(&hb, deadline - Duration::milliseconds(1))],
        &mut pings::NoModels,
        &FlapPolicy::default(),
    )
    .await
    .unwrap();
    // ...when the scheduler looks at the deadline: the row is the writer's, so it is skipped.
    let mut scheduler = app.conn().await;
    let after = deadline + Duration::seconds(1);
    let pass = deadlines::process_due(&mut scheduler, after, after, 100, &FlapPolicy::default())
        .await
        .unwrap();
    assert_eq!(
        pass.claimed, 0,
        "a row a ping batch holds is skipped, not decided"
    );
    pings::commit_staged(&mut writer, staged).await.unwrap();
    // Acknowledged: the deadline moved, and the next pass has nothing to decide. (The ping left
    // the earlier stored check in place; the pass takes the row, finds it on time, and stores
    // the new check.)
    let pass = deadlines::process_due(&mut scheduler, after, after, 100, &FlapPolicy::default())
        .await
        .unwrap();
    assert_eq!(
        (pass.late, pass.down, pass.notifications),
        (0, 0, 0),
        "{pass:?}"
    );
    let moved = app.reload(&scope, hb.id).await;
    assert_eq!(moved.timing.status, Status::Up);
    assert_eq!(moved.next_check_at, moved.timing.next_check_at());
    assert!(moved.next_check_at > Some(after));
    let pass = deadlines::process_due(&mut scheduler, after, after, 100, &FlapPolicy::default())
        .await
        .unwrap();
    assert_eq!(
        pass,
        deadlines::DueOutcome::default(),
        "nothing left to look at"
    );
    assert_eq!(app.count(NOTIFICATIONS).await, 0);

    // And a ping acknowledged over HTTP before the deadline is never followed by a down.
    let other = app.heartbeat(&scope, 60, 0).await;
    assert_eq!(app.get_status(app.url(&other)).await, 200);
    let deadline = app.reload(&scope, other.id).await.timing.alert_at.unwrap();
    assert_eq!(app.get_status(app.url(&other)).await, 200);
    let pass = deadlines::process_due(
        &mut scheduler,
        deadline,
        deadline,
        100,
        &FlapPolicy::default(),
    )
    .await
    .unwrap();
    assert_eq!(pass.down, 0);
    assert_eq!(app.reload(&scope, other.id).await.timing.status, Status::Up);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_before_the_ping_keeps_its_alert_and_adds_a_recovery() {
    let mut app = TestApp::start().await;
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, 60, 0).await;
    // The alert's first attempt fails, so its recovery is due before it is delivered.
    let hook = HttpServer::scripted(vec![Reply::Status(500, "")]).await;
    app.webhook(&scope, &hb, &hook.url("/hook")).await;
    assert_eq!(app.get_status(app.url(&hb)).await, 200);
    let deadline = app.reload(&scope, hb.id).await.timing.alert_at.unwrap();

    // The scheduler decides first: down, incident, alert queued — all committed together.
    let mut scheduler = app.conn().await;
    let pass = deadlines::process_due(
        &mut scheduler,
        deadline,
        deadline,
        100,
        &FlapPolicy::default(),
    )
    .await
    .unwrap();
    assert_eq!((pass.down, pass.notifications), (1, 1));
    assert_eq!(app.reload(&scope, hb.id).await.timing.status, Status::Down);

    // The ping that was in flight lands right after: up again, incident resolved, and the
    // team hears both — the alert is not withdrawn, a recovery follows it.
    let mut writer = app.conn().await;
    let staged = pings::stage_batch(
        &mut writer,
        &[success_ping(&hb, deadline + Duration::milliseconds(1))],
        &mut pings::NoModels,
        &FlapPolicy::default(),
    )
    .await
    .unwrap();
    pings::commit_staged(&mut writer, staged).await.unwrap();
    assert_eq!(app.reload(&scope, hb.id).await.timing.status, Status::Up);
    let kinds = "SELECT count(*) AS n FROM notifications n JOIN incidents i ON i.id = n.incident_id \
                 WHERE i.resolved_at IS NOT NULL AND n.kind IN ('alert', 'recovery')";
    assert_eq!(app.count(kinds).await, 2);
    assert_eq!(app.count(NOTIFICATIONS).await, 2);

    // Delivered in order: a receiver never hears "up again" before "down". (This test's clock
    // ran a minute ahead; make both due now.)
    app.sql("UPDATE notifications SET next_attempt_at = now()")
        .await;
    app.start_scheduler(app.scheduler_settings()).await;
    let delivered = hook.wait_for(2, PATIENCE).await;
    let types: Vec<_> = delivered.iter().map(|r| r.json()["type"].clone()).collect();
    assert_eq!(types, ["heartbeat.down", "heartbeat.up"]);
    app.stop().await;
}
