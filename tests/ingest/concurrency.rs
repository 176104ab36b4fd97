//! Many pings at once, to one heartbeat and to many: every 200 is a stored row, and the
//! heartbeat ends at the newest ping.

use futures_util::future::join_all;
use lifeline_domain::{Plan, Status};
use reqwest::StatusCode;

use lifeline_testkit::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pings_to_one_heartbeat_are_all_stored() {
    let app = TestApp::start().await;
    let (scope, hb) = app.hourly().await;
    let url = app.url(&hb);
    let answers = join_all((0..300).map(|i| {
        let request = if i % 2 == 0 {
            app.http.get(&url)
        } else {
            app.http.post(&url).body("x")
        };
        request.send()
    }))
    .await;
    let ok = answers
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|r| r.status() == StatusCode::OK))
        .count();
    assert_eq!(ok, 300);
    assert_eq!(app.ping_count(hb.id).await, 300);

    let hb = app.reload(&scope, hb.id).await;
    assert_eq!(hb.timing.status, Status::Up);
    let newest = lifeline_store::pings::recent(&mut app.conn().await, &scope, hb.id, 1)
        .await
        .unwrap();
    assert_eq!(
        hb.timing.last_ping_at,
        Some(newest[0].received_at),
        "deadline follows the newest ping"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pings_to_many_heartbeats_land_on_the_right_ones() {
    let app = TestApp::start().await;
    let scope = app.team(Plan::Enterprise).await;
    let mut beats = Vec::new();
    for _ in 0..40 {
        beats.push(app.heartbeat(&scope, 60, 10).await);
    }
    // Heartbeat i gets i + 1 pings, all interleaved, with failures on the odd ones last.
    let mut requests = Vec::new();
    for (i, hb) in beats.iter().enumerate() {
        for _ in 0..=i {
            requests.push(app.http.get(app.url(hb)).send());
        }
    }
    let answers = join_all(requests).await;
    let refused: Vec<String> = answers
        .iter()
        .filter(|r| !r.as_ref().is_ok_and(|r| r.status() == StatusCode::OK))
        .map(|r| match r {
            Ok(r) => r.status().to_string(),
            Err(e) => e.to_string(),
        })
        .collect();
    assert!(refused.is_empty(), "not every ping was taken: {refused:?}");
    for (i, hb) in beats.iter().enumerate() {
        assert_eq!(app.ping_count(hb.id).await, i as i64 + 1, "heartbeat {i}");
    }
    let fails = join_all(
        beats
            .iter()
            .skip(1)
            .step_by(2)
            .map(|hb| app.http.get(format!("{}/fail", app.url(hb))).send()),
    )
    .await;
    assert!(
        fails
            .iter()
            .all(|r| r.as_ref().is_ok_and(|r| r.status() == StatusCode::OK))
    );
    for (i, hb) in beats.iter().enumerate() {
        let expected = if i % 2 == 1 { Status::Down } else { Status::Up };
        assert_eq!(
            app.reload(&scope, hb.id).await.timing.status,
            expected,
            "heartbeat {i}"
        );
    }
}
