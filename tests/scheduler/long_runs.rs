//! Long runs: a run that stops reporting progress, and a run past its maximum run time.

use std::time::Duration;

use lifeline_domain::{Plan, RunLimits, Schedule, Status};
use lifeline_store::heartbeats::{self, NewHeartbeat};
use lifeline_testkit::{HttpServer, PATIENCE, TestApp};

use crate::reason;

async fn long_job(
    app: &TestApp,
    scope: &lifeline_store::TeamScope,
    max_runtime: Option<i64>,
    progress_timeout: Option<i64>,
) -> heartbeats::Heartbeat {
    let mut new = NewHeartbeat::new(
        lifeline_domain::HeartbeatName::parse("export").unwrap(),
        Schedule::from_secs(86_400, 3600).unwrap(),
    );
    new.limits = RunLimits::from_secs(max_runtime, progress_timeout).unwrap();
    heartbeats::create(&mut app.conn().await, scope, new)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_without_progress_goes_down_as_stalled() {
    let app = TestApp::with_scheduler().await;
    let scope = app.team(Plan::Free).await;
    let hb = long_job(&app, &scope, None, Some(1)).await;
    let hook = HttpServer::ok().await;
    app.webhook(&scope, &hb, &hook.url("/hook")).await;
    let url = app.url(&hb);

    // The job reports progress every 0.4 s for 1.6 s, longer than the 1 s progress timeout.
    assert_eq!(app.get_status(format!("{url}/start")).await, 200);
    for step in 1..=4 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let answer = app
            .http
            .post(format!("{url}/progress"))
            .body(format!("step {step} of 10"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
    assert_eq!(
        app.reload(&scope, hb.id).await.timing.status,
        Status::New,
        "progress keeps it alive"
    );
    // Then silence: down within the progress timeout (plus the scheduler's reaction time).
    let alert = hook.wait_for(1, PATIENCE).await;
    assert_eq!(alert.len(), 1);
    let why = reason(&alert[0]);
    assert!(why.contains("stalled run: no progress for 1 s"), "{why}");
    assert_eq!(app.transitions(hb.id).await, [(Status::New, Status::Down)]);
    let history = lifeline_store::pings::recent(&mut app.conn().await, &scope, hb.id, 10)
        .await
        .unwrap();
    assert_eq!(
        history[0].detail.as_deref(),
        Some("step 4 of 10"),
        "progress detail kept"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_past_its_maximum_goes_down_as_too_long() {
    let app = TestApp::with_scheduler().await;
    let scope = app.team(Plan::Free).await;
    let hb = long_job(&app, &scope, Some(2), Some(1)).await;
    let hook = HttpServer::ok().await;
    app.webhook(&scope, &hb, &hook.url("/hook")).await;
    let url = app.url(&hb);

    // A first run that finishes in time is fine.
    assert_eq!(app.get_status(format!("{url}/start")).await, 200);
    assert_eq!(app.get_status(url.clone()).await, 200);
    assert_eq!(app.get_status(format!("{url}/start")).await, 200);
    let progress = tokio::spawn({
        let (http, url) = (app.http.clone(), url.clone());
        async move {
            for _ in 0..12 {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let _ = http.get(format!("{url}/progress")).send().await;
            }
        }
    });
    let alert = hook.wait_for(1, PATIENCE).await;
    progress.abort();
    assert_eq!(alert.len(), 1);
    let why = reason(&alert[0]);
    assert!(why.contains("run too long") && why.contains("2 s"), "{why}");
    assert_eq!(
        app.transitions(hb.id).await,
        [(Status::New, Status::Up), (Status::Up, Status::Down)]
    );
    app.stop().await;
}
