//! Rotating a token kills the old one on every ingest process within a second, and a Redis
//! outage never makes a rotated token work again.

use std::process::Stdio;
use std::time::{Duration, Instant};

use lifeline_store::heartbeats;
use reqwest::StatusCode;
use tokio::process::{Child, Command};

use crate::support::chaos::redis_proxy;
use crate::support::{TestApp, free_port, local_settings};

fn lifeline(app: &TestApp) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lifeline"));
    cmd.env("DATABASE_URL", &app.db.settings.database_url)
        .env("REDIS_URL", &app.db.settings.redis_url)
        .env("LIFELINE_REDIS_PREFIX", &app.db.settings.redis_prefix)
        .env("LIFELINE_PUBLIC_URL", "http://127.0.0.1:1")
        .env("LIFELINE_INGEST_WORKERS", "1")
        .env("LIFELINE_LOG", "warn")
        .kill_on_drop(true);
    cmd
}

async fn spawn_ingest(app: &TestApp) -> (Child, String) {
    let port = free_port();
    let child = lifeline(app)
        .arg("ingest")
        .env("LIFELINE_INGEST_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (child, base);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("ingest process on {base} did not become ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_kills_the_old_token_on_every_process_within_a_second() {
    let app = TestApp::start().await;
    let (_, hb) = app.hourly().await;
    let (_a, base_a) = spawn_ingest(&app).await;
    let (_b, base_b) = spawn_ingest(&app).await;
    let old_a = hb.ping_url(&base_a);
    let old_b = hb.ping_url(&base_b);
    // Warm both processes' caches with the old token.
    for url in [&old_a, &old_b, &old_a, &old_b] {
        assert_eq!(app.get_status(url).await, StatusCode::OK);
    }

    let out = lifeline(&app)
        .args(["admin", "heartbeat", "rotate", &hb.id.to_string(), "--json"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rotated_at = Instant::now();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let new_token = json["token"].as_str().unwrap().to_owned();
    assert_ne!(new_token, hb.token);

    for old in [&old_a, &old_b] {
        loop {
            let status = app.get_status(old).await;
            if status == StatusCode::NOT_FOUND {
                break;
            }
            assert_eq!(status, StatusCode::OK);
            assert!(
                rotated_at.elapsed() < Duration::from_secs(1),
                "old token still accepted after 1 s on {old}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    println!(
        "old token dead on both processes {:?} after rotation",
        rotated_at.elapsed()
    );
    for base in [&base_a, &base_b] {
        let new_url = format!("{base}/api/v1/hb/{new_token}");
        assert_eq!(app.get_status(&new_url).await, StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_degrades_to_postgres_and_never_answers_wrong() {
    let redis = redis_proxy().await;
    let redis_addr = redis.addr;
    let app = TestApp::start_with(local_settings(), |mut s| {
        s.redis_url = format!("redis://{redis_addr}");
        s
    })
    .await;
    let (scope, hb) = app.hourly().await;
    for _ in 0..3 {
        assert_eq!(app.get_status(app.url(&hb)).await, StatusCode::OK);
    }

    redis.cut();
    // Pings keep working on Postgres alone, with the rate limiter open.
    for _ in 0..5 {
        let started = Instant::now();
        assert_eq!(app.get_status(app.url(&hb)).await, StatusCode::OK);
        assert!(started.elapsed() < Duration::from_secs(2));
    }
    // A rotation that cannot be announced (Redis is down) still takes effect at once.
    let rotated = heartbeats::rotate_token(&mut app.conn().await, &scope, hb.id)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(app.get_status(app.url(&hb)).await, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get_status(app.url(&rotated.heartbeat)).await,
        StatusCode::OK
    );

    redis.restore();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.get_status(app.url(&hb)).await, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get_status(app.url(&rotated.heartbeat)).await,
        StatusCode::OK
    );
    assert_eq!(app.ping_count(hb.id).await, 10);
}
