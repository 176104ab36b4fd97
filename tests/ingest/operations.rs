//! Health, readiness, metrics and graceful shutdown.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;

use lifeline_testkit::chaos::postgres_proxy;
use lifeline_testkit::{TestApp, local_settings, via, wait_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics() {
    let pg = postgres_proxy().await;
    let pg_addr = pg.addr;
    let app = TestApp::start_with(local_settings(), |mut s| {
        s.database_url = via(&s.database_url, pg_addr);
        s
    })
    .await;
    assert_eq!(
        app.get_status(format!("{}/healthz", app.base)).await,
        StatusCode::OK
    );
    // The public ping address answers liveness only: readiness (a Postgres query) and metrics
    // are on the ops address.
    for path in ["/readyz", "/metrics"] {
        assert_eq!(
            app.get_status(format!("{}{path}", app.base)).await,
            StatusCode::NOT_FOUND,
            "{path} on the public address"
        );
    }
    assert_eq!(
        app.get_status(format!("{}/healthz", app.ops_base())).await,
        StatusCode::OK
    );
    let ready = app
        .http
        .get(format!("{}/readyz", app.ops_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"postgres": "ok", "redis": "ok"}));

    let (_, hb) = app.hourly().await;
    app.http.get(app.url(&hb)).send().await.unwrap();
    app.http
        .get(format!("{}/api/v1/hb/nope", app.base))
        .send()
        .await
        .unwrap();
    let metrics = app
        .http
        .get(format!("{}/metrics", app.ops_base()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "lifeline_pings_total{result=\"ok\"}",
        "lifeline_pings_total{result=\"not_found\"}",
        "lifeline_ingest_batch_size_bucket",
        "lifeline_ingest_commit_seconds_bucket",
    ] {
        assert!(
            metrics.contains(needle),
            "/metrics lacks {needle}:\n{metrics}"
        );
    }

    pg.cut();
    assert_eq!(
        app.get_status(format!("{}/readyz", app.ops_base())).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        app.get_status(format!("{}/healthz", app.base)).await,
        StatusCode::OK
    );
    pg.restore();
    let ready = wait_until(Duration::from_secs(5), async || {
        app.get_status(format!("{}/readyz", app.ops_base())).await == StatusCode::OK
    })
    .await;
    assert!(ready, "ready again once Postgres is back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_commits_and_answers_pings_in_flight() {
    let mut app = TestApp::start().await;
    let (_, hb) = app.hourly().await;
    let url = app.url(&hb);
    let in_flight: Vec<_> = (0..200)
        .map(|_| tokio::spawn(app.http.get(&url).send()))
        .collect();
    // Stop once pings are being stored, so that others are still on their way.
    let arriving = wait_until(Duration::from_secs(5), async || {
        app.ping_count(hb.id).await > 0
    });
    assert!(arriving.await, "no ping arrived");
    let running = app.ingest.take().unwrap();
    running.stop().await.unwrap();
    let answers = join_all(in_flight).await;
    let ok = answers
        .iter()
        .filter(|r| {
            r.as_ref()
                .is_ok_and(|r| r.as_ref().is_ok_and(|r| r.status() == StatusCode::OK))
        })
        .count();
    assert!(ok > 0, "some pings were in flight");
    assert_eq!(
        app.ping_count(hb.id).await,
        ok as i64,
        "every 200 is stored, every stored ping got its 200"
    );
    assert!(
        app.http.get(&url).send().await.is_err(),
        "stopped service refuses connections"
    );
}
