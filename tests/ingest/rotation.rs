//! Rotating a token kills the old one on every ingest process within a second, and a Redis
//! outage never makes a rotated token work again.

use std::time::{Duration, Instant};

use lifeline_store::heartbeats;
use lifeline_testkit::chaos::redis_proxy;
use lifeline_testkit::{Lifeline, Process, Role, TestApp, local_settings, wait_until};
use reqwest::StatusCode;

fn lifeline(app: &TestApp) -> Lifeline {
    Lifeline::new(env!("CARGO_BIN_EXE_lifeline"), &app.db.settings)
        .env("LIFELINE_PING_URL", "http://127.0.0.1:1")
        .env("LIFELINE_INGEST_WORKERS", "1")
}

async fn spawn_ingest(app: &TestApp) -> (Process, String) {
    let process = lifeline(app).start(Role::Ingest).await;
    let base = process.base();
    (process, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_kills_the_old_token_on_every_process_within_a_second() {
    let app = TestApp::start().await;
    let (_, hb) = app.hourly().await;
    let (a, base_a) = spawn_ingest(&app).await;
    let (b, base_b) = spawn_ingest(&app).await;
    let old_a = hb.ping_url(&base_a);
    let old_b = hb.ping_url(&base_b);
    // Warm both processes' caches with the old token.
    for url in [&old_a, &old_b, &old_a, &old_b] {
        assert_eq!(app.get_status(url).await, StatusCode::OK);
    }

    let out = lifeline(&app)
        .run(&["admin", "heartbeat", "rotate", &hb.id.to_string(), "--json"])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rotated_at = Instant::now();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let new_token = json["token"].as_str().unwrap().to_owned();
    assert_ne!(new_token, hb.token);

    let within = Duration::from_secs(1).saturating_sub(rotated_at.elapsed());
    for old in [&old_a, &old_b] {
        let dead = wait_until(within, async || {
            let status = app.get_status(old).await;
            assert!(
                [StatusCode::OK, StatusCode::NOT_FOUND].contains(&status),
                "{old}: {status}"
            );
            status == StatusCode::NOT_FOUND
        })
        .await;
        assert!(dead, "old token still accepted after 1 s on {old}");
    }
    println!(
        "old token dead on both processes {:?} after rotation",
        rotated_at.elapsed()
    );
    for base in [&base_a, &base_b] {
        let new_url = format!("{base}/api/v1/hb/{new_token}");
        assert_eq!(app.get_status(&new_url).await, StatusCode::OK);
    }
    for process in [a, b] {
        assert!(process.stop().await.success(), "ingest stops cleanly");
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
    // A rotation that cannot be announced (Redis is down) still takes effect within a second.
    let rotated = heartbeats::rotate_token(&mut app.conn().await, &scope, hb.id)
        .await
        .unwrap();
    let dead = wait_until(Duration::from_millis(1100), async || {
        app.get_status(app.url(&hb)).await == StatusCode::NOT_FOUND
    })
    .await;
    assert!(dead, "old token still accepted a second after its rotation");
    assert_eq!(
        app.get_status(app.url(&rotated.heartbeat)).await,
        StatusCode::OK
    );

    // Back on Redis: the old token's cached entry, written before the outage, has been buried
    // (a tombstone), and ingest listens for token events again — then it must still be refused.
    redis.restore();
    let tombstone = app.keys().token(&rotated.old_token_hash);
    let buried = wait_until(Duration::from_secs(5), async || {
        let entry: Option<String> = redis::cmd("GET")
            .arg(&tombstone)
            .query_async(&mut app.db.redis().await)
            .await
            .unwrap();
        entry.as_deref() == Some("-")
    })
    .await;
    assert!(
        buried,
        "the old token's Redis entry was not replaced by a tombstone"
    );
    let listening = wait_until(Duration::from_secs(5), async || {
        app.db.subscribers("events:tokens").await > 0
    })
    .await;
    assert!(listening, "ingest did not resubscribe to token events");
    assert_eq!(app.get_status(app.url(&hb)).await, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get_status(app.url(&rotated.heartbeat)).await,
        StatusCode::OK
    );
    assert_eq!(app.ping_count(hb.id).await, 10);
}
