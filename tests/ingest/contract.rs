//! Every point of the ping API contract, one test each.

use std::time::Duration;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lifeline_domain::{PingToken, Plan, Status};
use lifeline_store::heartbeats;
use lifeline_store::pings::{self, Ping};
use lifeline_store::schema::pings as pings_table;
use reqwest::StatusCode;

use lifeline_testkit::{PATIENCE, TestApp, local_settings, wait_until};

async fn history(
    app: &TestApp,
    scope: &lifeline_store::TeamScope,
    hb: &heartbeats::Heartbeat,
) -> Vec<Ping> {
    pings::recent(&mut app.conn().await, scope, hb.id, 100)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_post_and_head_record_a_success_ping() {
    let app = TestApp::start().await;
    let (scope, hb) = app.hourly().await;
    let url = app.url(&hb);

    let get = app.http.get(&url).send().await.unwrap();
    assert_eq!(get.status(), StatusCode::OK);
    assert_eq!(get.text().await.unwrap(), "OK");
    let post = app.http.post(&url).body("job output").send().await.unwrap();
    assert_eq!(post.status(), StatusCode::OK);
    let head = app.http.head(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);

    let mut methods: Vec<String> = history(&app, &scope, &hb)
        .await
        .into_iter()
        .map(|p| p.method)
        .collect();
    methods.sort();
    assert_eq!(methods, vec!["GET", "HEAD", "POST"]);
    let post_ping = history(&app, &scope, &hb)
        .await
        .into_iter()
        .find(|p| p.method == "POST")
        .unwrap();
    assert_eq!(post_ping.body_size, 10);
    assert_eq!(post_ping.kind, lifeline_domain::PingKind::Success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_ping_makes_a_new_heartbeat_up_with_deadlines() {
    let app = TestApp::start().await;
    let (scope, hb) = app.hourly().await;
    assert_eq!(hb.timing.status, Status::New);
    assert_eq!(hb.timing.alert_at, None);

    assert_eq!(
        app.http.post(app.url(&hb)).send().await.unwrap().status(),
        StatusCode::OK
    );
    let hb = app.reload(&scope, hb.id).await;
    let last = hb.timing.last_ping_at.unwrap();
    assert_eq!(hb.timing.status, Status::Up);
    assert_eq!(
        hb.timing.due_at,
        Some(last + chrono::Duration::seconds(3600))
    );
    assert_eq!(
        hb.timing.alert_at,
        Some(last + chrono::Duration::seconds(4200))
    );
    assert!((chrono::Utc::now() - last).num_seconds().abs() < 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_start_fail_and_exit_codes() {
    let app = TestApp::start().await;
    let (scope, hb) = app.hourly().await;
    let url = app.url(&hb);

    assert_eq!(app.get_status(format!("{url}/start")).await, StatusCode::OK);
    assert!(app.reload(&scope, hb.id).await.timing.started_at.is_some());
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(app.get_status(format!("{url}/0")).await, StatusCode::OK);
    let after_run = app.reload(&scope, hb.id).await;
    assert_eq!(after_run.timing.status, Status::Up);
    assert_eq!(after_run.timing.started_at, None);

    assert_eq!(
        app.http
            .post(format!("{url}/fail"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(app.reload(&scope, hb.id).await.timing.status, Status::Down);
    assert_eq!(app.get_status(&url).await, StatusCode::OK);
    assert_eq!(app.reload(&scope, hb.id).await.timing.status, Status::Up);
    assert_eq!(app.get_status(format!("{url}/137")).await, StatusCode::OK);
    assert_eq!(app.reload(&scope, hb.id).await.timing.status, Status::Down);

    let pings = history(&app, &scope, &hb).await;
    let kinds: Vec<(&str, Option<i16>)> = pings
        .iter()
        .rev()
        .map(|p| (p.kind.as_str(), p.exit_code))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("start", None),
            ("success", Some(0)),
            ("fail", None),
            ("success", None),
            ("fail", Some(137))
        ]
    );
    let run = pings.iter().find(|p| p.exit_code == Some(0)).unwrap();
    assert!(
        run.duration_ms.is_some_and(|d| d >= 30),
        "run duration measured: {:?}",
        run.duration_ms
    );

    let changes = heartbeats::status_history(&mut app.conn().await, &scope, hb.id, 10)
        .await
        .unwrap();
    let reasons: Vec<&str> = changes.iter().rev().map(|c| c.reason.as_str()).collect();
    assert_eq!(
        reasons,
        vec!["ping", "failure signal", "ping", "failure signal"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_malformed_and_rotated_tokens_are_404() {
    let app = TestApp::start().await;
    let (scope, hb) = app.hourly().await;
    let base = format!("{}/api/v1/hb", app.base);
    let unknown = PingToken::generate();
    for path in [
        format!("{base}/{}", unknown.expose()),
        format!("{base}/{}/start", unknown.expose()),
        format!("{base}/short"),
        format!("{base}/{}x", hb.token),
        format!("{base}/{}", &hb.token[1..]),
        format!(
            "{base}/{}",
            hb.token
                .to_uppercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "A")
        ),
        format!("{base}/%00%01%02"),
        format!("{base}/"),
        format!("{}/start/extra", app.url(&hb)),
        format!("{}/256", app.url(&hb)),
        format!("{}/-1", app.url(&hb)),
        format!("{}/01", app.url(&hb)),
        format!("{}/success", app.url(&hb)),
    ] {
        let response = app.http.get(&path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }

    let rotated = heartbeats::rotate_token(&mut app.conn().await, &scope, hb.id)
        .await
        .unwrap();
    app.announce_gone(&rotated.old_token_hash).await;
    assert_eq!(app.get_status(app.url(&hb)).await, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get_status(app.url(&rotated.heartbeat)).await,
        StatusCode::OK
    );
    assert_eq!(app.ping_count(hb.id).await, 1, "404s store nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_methods_are_405() {
    let app = TestApp::start().await;
    let (_, hb) = app.hourly().await;
    for method in ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        for url in [app.url(&hb), format!("{}/fail", app.url(&hb))] {
            let response = app.http.request(method.clone(), &url).send().await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {url}"
            );
            assert_eq!(
                response.headers()["allow"],
                "GET, POST, HEAD",
                "{method} {url}"
            );
        }
    }
    assert_eq!(app.ping_count(hb.id).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_never_get_a_5xx() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::start().await;
    let (_, hb) = app.hourly().await;
    let path = format!("/api/v1/hb/{}", hb.token);
    let addr = app.base.trim_start_matches("http://").to_owned();
    let raw_requests = [
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot hex\r\n0\r\n\r\n"
        ),
        format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"),
        format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"),
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n"
        ),
        format!("GET {path}/%FF%FE HTTP/1.1\r\nHost: x\r\n\r\n"),
        format!("GET {path}/..%2F..%2Fetc HTTP/1.1\r\nHost: x\r\n\r\n"),
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nUser-Agent: \u{fffd}\u{0}bad\r\n\r\n"),
        "GET /api/v1/hb/%E2%82 HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: not-an-ip\r\n\r\n"),
        format!("BREW {path} HTTP/1.1\r\nHost: x\r\n\r\n"),
        "GARBAGE\r\n\r\n".to_owned(),
    ];
    for request in raw_requests {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = vec![0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut response))
            .await
            .unwrap()
            .unwrap_or(0);
        let head = String::from_utf8_lossy(&response[..n]).to_string();
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        // A closed connection without an answer is acceptable for garbage; a 5xx never is.
        assert!(status < 500, "{request:?} got {head:?}");
    }
    // A user agent with bytes Postgres cannot store is cleaned, not refused.
    let response = app
        .http
        .get(app.url(&hb))
        .header(
            "User-Agent",
            reqwest::header::HeaderValue::from_bytes(b"cron \xff\xfe job").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_rate_limit_gets_429_with_retry_after() {
    let mut settings = local_settings();
    settings.rate_limit = 5;
    let app = TestApp::start_with(settings, |s| s).await;
    let (scope, hb) = app.hourly().await;
    let other = app.heartbeat(&scope, 60, 0).await;
    for _ in 0..5 {
        assert_eq!(app.get_status(app.url(&hb)).await, StatusCode::OK);
    }
    let limited = app.http.get(app.url(&hb)).send().await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "retry-after {retry_after}");
    assert_eq!(
        app.ping_count(hb.id).await,
        5,
        "a refused ping is not stored"
    );
    // The limit is per heartbeat.
    assert_eq!(app.get_status(app.url(&other)).await, StatusCode::OK);
}

/// The shared rate-limit counter of the heartbeat in the current hour-long window, as the
/// processes write it.
async fn shared_count(app: &TestApp, hb: &heartbeats::Heartbeat) -> u64 {
    let window = chrono::Utc::now().timestamp().div_euclid(3600);
    redis::cmd("GET")
        .arg(app.keys().rate_limit(hb.id, window))
        .query_async::<Option<u64>>(&mut app.db.redis().await)
        .await
        .unwrap()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_the_rate_limit() {
    let mut settings = local_settings();
    settings.rate_limit = 10;
    // A window the test cannot straddle.
    settings.rate_window = Duration::from_secs(3600);
    let app = TestApp::start_with(settings.clone(), |s| s).await;
    let second = lifeline_ingest::start(settings, app.store.clone())
        .await
        .expect("a second ingest starts");
    let (_, hb) = app.hourly().await;
    let on_second = app
        .url(&hb)
        .replace(&app.base, &format!("http://{}", second.addr));
    for _ in 0..6 {
        assert_eq!(app.get_status(app.url(&hb)).await, StatusCode::OK);
    }
    // Counts are exchanged through Redis every 50 ms: the first process sends its six (past
    // half the limit). The second decides the heartbeat's first ping there on its own count,
    // and that ping puts the heartbeat in its next exchange, which adds it and reads back
    // what the first process counted.
    assert!(wait_until(PATIENCE, async || shared_count(&app, &hb).await == 6).await);
    assert_eq!(app.get_status(&on_second).await, StatusCode::OK);
    assert!(
        wait_until(PATIENCE, async || shared_count(&app, &hb).await == 7).await,
        "the second process's first ping is shared at its next exchange"
    );
    // The total it read comes back with the same answer; one more exchange interval is ample.
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..3 {
        assert_eq!(app.get_status(&on_second).await, StatusCode::OK);
    }
    assert_eq!(
        app.get_status(&on_second).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the eleventh ping of the window, wherever it arrives"
    );
    // The first process refreshes a count past half its limit at every exchange.
    assert!(wait_until(PATIENCE, async || shared_count(&app, &hb).await >= 11).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.get_status(app.url(&hb)).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(app.ping_count(hb.id).await, 10);
    // The counter expires with its window (two windows after it was created), so Redis is not
    // left holding one key per heartbeat and hour.
    let window = chrono::Utc::now().timestamp().div_euclid(3600);
    let ttl: i64 = redis::cmd("TTL")
        .arg(app.keys().rate_limit(hb.id, window))
        .query_async(&mut app.db.redis().await)
        .await
        .unwrap();
    assert!((3600..=7200).contains(&ttl), "TTL {ttl}");
    second.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heartbeat_far_below_its_limit_is_shared_a_tenth_of_the_limit_at_a_time() {
    let mut settings = local_settings();
    // Batches of ten.
    settings.rate_limit = 100;
    settings.rate_window = Duration::from_secs(3600);
    let app = TestApp::start_with(settings, |s| s).await;
    let (_, hb) = app.hourly().await;
    // A heartbeat's first ping of a window at a process goes to the next exchange: that is how
    // the process learns what the others counted before it.
    assert_eq!(app.get_status(app.url(&hb)).await, StatusCode::OK);
    assert!(
        wait_until(PATIENCE, async || shared_count(&app, &hb).await == 1).await,
        "the first ping of the window is shared at the next exchange"
    );
    for _ in 0..9 {
        assert_eq!(app.get_status(app.url(&hb)).await, StatusCode::OK);
    }
    // Several exchanges (every 50 ms) pass: nine pings are fewer than a batch, held back.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        shared_count(&app, &hb).await,
        1,
        "fewer than a tenth of the limit stays in the process"
    );
    assert_eq!(app.get_status(app.url(&hb)).await, StatusCode::OK);
    assert!(
        wait_until(PATIENCE, async || shared_count(&app, &hb).await == 11).await,
        "the tenth ping sends the batch: {}",
        shared_count(&app, &hb).await
    );
    // Past half the limit every ping is shared at the next exchange.
    for _ in 0..45 {
        assert_eq!(app.get_status(app.url(&hb)).await, StatusCode::OK);
    }
    assert!(wait_until(PATIENCE, async || shared_count(&app, &hb).await == 56).await);
    assert_eq!(app.get_status(app.url(&hb)).await, StatusCode::OK);
    assert!(
        wait_until(PATIENCE, async || shared_count(&app, &hb).await == 57).await,
        "one ping past half the limit is shared on its own"
    );
}

#[test]
fn the_default_rate_limit_lets_a_job_ping_every_second() {
    let defaults =
        lifeline_ingest::IngestSettings::from_source(&lifeline_settings::Source::empty()).unwrap();
    let per_second = f64::from(defaults.rate_limit) / defaults.rate_window.as_secs_f64();
    // Start and finish signals every second, with room for retries.
    assert!(per_second >= 4.0, "default allows only {per_second}/s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_up_to_10_mb_are_measured_and_larger_ones_are_413() {
    let app = TestApp::start().await;
    let (scope, hb) = app.hourly().await;
    let ten_mb = 10 * 1024 * 1024;

    let ok = app
        .http
        .post(app.url(&hb))
        .body(vec![b'x'; ten_mb])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let stored = history(&app, &scope, &hb).await;
    assert_eq!(stored[0].body_size, ten_mb as i64);

    let declared = app
        .http
        .post(app.url(&hb))
        .body(vec![b'x'; ten_mb + 1])
        .send()
        .await;
    match declared {
        Ok(r) => assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE),
        Err(e) => panic!("oversized body should be answered 413, got {e}"),
    }

    // Without a Content-Length the limit is enforced while streaming.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..11).map(|_| Ok(vec![b'y'; 1024 * 1024])).collect();
    let streamed = app
        .http
        .post(app.url(&hb))
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await;
    if let Ok(r) = streamed {
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    assert_eq!(
        app.ping_count(hb.id).await,
        1,
        "oversized pings are not stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_pings_keep_the_first_kilobyte_as_detail() {
    let app = TestApp::start().await;
    let (scope, hb) = app.hourly().await;
    let body = "é".repeat(600); // 1200 bytes
    let r = app
        .http
        .post(format!("{}/progress", app.url(&hb)))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let ping = &history(&app, &scope, &hb).await[0];
    assert_eq!(ping.kind, lifeline_domain::PingKind::Progress);
    assert_eq!(ping.body_size, 1200);
    let detail = ping.detail.as_deref().unwrap();
    assert_eq!(detail.len(), 1024);
    assert!(detail.chars().all(|c| c == 'é'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_lets_browsers_ping() {
    let app = TestApp::start().await;
    let (_, hb) = app.hourly().await;
    let preflight = app
        .http
        .request(reqwest::Method::OPTIONS, app.url(&hb))
        .header("Origin", "https://status.example.com")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let ping = app
        .http
        .post(app.url(&hb))
        .header("Origin", "https://status.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), StatusCode::OK);
    assert_eq!(ping.headers()["access-control-allow-origin"], "*");
}

async fn recorded_addr(app: &TestApp, header: Option<&str>) -> Option<String> {
    let (scope, hb) = app.hourly().await;
    let mut request = app
        .http
        .get(app.url(&hb))
        .header("User-Agent", "backup.sh/1.0");
    if let Some(value) = header {
        request = request.header("X-Forwarded-For", value);
    }
    assert_eq!(request.send().await.unwrap().status(), StatusCode::OK);
    let ping = &history(app, &scope, &hb).await[0];
    assert_eq!(ping.user_agent.as_deref(), Some("backup.sh/1.0"));
    ping.remote_addr.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_address_honours_only_the_configured_proxy_header() {
    let untrusting = TestApp::start().await;
    assert_eq!(
        recorded_addr(&untrusting, Some("203.0.113.9"))
            .await
            .as_deref(),
        Some("127.0.0.1")
    );

    let mut settings = local_settings();
    settings.trusted_proxy_header = Some("x-forwarded-for".parse().unwrap());
    let behind_proxy = TestApp::start_with(settings, |s| s).await;
    assert_eq!(
        recorded_addr(&behind_proxy, Some("198.51.100.1, 203.0.113.9"))
            .await
            .as_deref(),
        Some("203.0.113.9")
    );
    assert_eq!(
        recorded_addr(&behind_proxy, Some("garbage"))
            .await
            .as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        recorded_addr(&behind_proxy, None).await.as_deref(),
        Some("127.0.0.1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_resumes_a_paused_heartbeat() {
    let app = TestApp::start().await;
    let (scope, hb) = app.hourly().await;
    app.http.get(app.url(&hb)).send().await.unwrap();
    let paused = heartbeats::pause(&mut app.conn().await, &scope, hb.id)
        .await
        .unwrap();
    assert_eq!(paused.timing.status, Status::Paused);
    assert_eq!(paused.timing.alert_at, None);
    assert_eq!(app.get_status(app.url(&hb)).await, StatusCode::OK);
    let resumed = app.reload(&scope, hb.id).await;
    assert_eq!(resumed.timing.status, Status::Up);
    assert!(resumed.timing.alert_at.is_some());
    let changes = heartbeats::status_history(&mut app.conn().await, &scope, hb.id, 10)
        .await
        .unwrap();
    assert_eq!(changes[0].reason, "resumed by ping");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_is_scoped_to_the_team_and_its_retention() {
    let app = TestApp::start().await;
    let (scope, hb) = app.hourly().await;
    let other_team = app.team(Plan::Enterprise).await;
    app.http.get(app.url(&hb)).send().await.unwrap();
    // An old ping, beyond the free plan's 7 days but within enterprise's year.
    diesel::sql_query("UPDATE pings SET received_at = now() - interval '30 days'")
        .execute(&mut app.conn().await)
        .await
        .unwrap();
    app.http.get(app.url(&hb)).send().await.unwrap();
    let mut conn = app.conn().await;
    assert_eq!(pings::count(&mut conn, &scope, hb.id).await.unwrap(), 1);
    assert_eq!(
        pings::count(&mut conn, &other_team, hb.id).await.unwrap(),
        0
    );
    assert!(matches!(
        heartbeats::find(&mut conn, &other_team, hb.id).await,
        Err(lifeline_store::StoreError::NotFound)
    ));
    lifeline_store::billing::set_plan_by_operator(&mut conn, scope.team_id(), Plan::Premium)
        .await
        .unwrap();
    let upgraded = lifeline_store::TeamScope::for_operator(&mut conn, scope.team_id())
        .await
        .unwrap();
    assert_eq!(pings::count(&mut conn, &upgraded, hb.id).await.unwrap(), 2);
    let total: i64 = pings_table::table
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(total, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heartbeat_deleted_behind_a_cached_token_is_404_without_hurting_others() {
    let app = TestApp::start().await;
    let (scope, doomed) = app.hourly().await;
    let survivor = app.heartbeat(&scope, 60, 0).await;
    // Warm the token cache, then delete the row behind it.
    assert_eq!(app.get_status(app.url(&doomed)).await, StatusCode::OK);
    diesel::sql_query(format!("DELETE FROM heartbeats WHERE id = '{}'", doomed.id))
        .execute(&mut app.conn().await)
        .await
        .unwrap();
    let (gone, alive) = tokio::join!(
        app.http.get(app.url(&doomed)).send(),
        app.http.get(app.url(&survivor)).send()
    );
    assert_eq!(gone.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(alive.unwrap().status(), StatusCode::OK);
    assert_eq!(app.ping_count(survivor.id).await, 1);
}

/// Reads pipelined answers off `bytes` in order, as an HTTP/1.1 client does: an answer to
/// `HEAD` has no body whatever its headers say; others have `Content-Length` bytes. Returns
/// each answer's status and body, and what was left over.
fn pipelined_answers(mut bytes: &[u8], methods: &[&str]) -> (Vec<(u16, String)>, usize) {
    let mut answers = Vec::new();
    for method in methods {
        let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
            break;
        };
        let head = String::from_utf8_lossy(&bytes[..end]).to_string();
        bytes = &bytes[end + 4..];
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not a status line: {head:?}"));
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        let body_len = if *method == "HEAD" { 0 } else { length };
        let body = String::from_utf8_lossy(&bytes[..body_len.min(bytes.len())]).to_string();
        bytes = &bytes[body_len.min(bytes.len())..];
        answers.push((status, body));
    }
    (answers, bytes.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_requests_get_one_answer_each_and_head_answers_carry_no_body() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::start().await;
    let (_, hb) = app.hourly().await;
    let path = format!("/api/v1/hb/{}", hb.token);
    let addr = app.base.trim_start_matches("http://").to_owned();
    let request = |method: &str, suffix: &str, last: bool| {
        let close = if last { "Connection: close\r\n" } else { "" };
        let body = if method == "POST" { "done" } else { "" };
        format!(
            "{method} {path}{suffix} HTTP/1.1\r\nHost: x\r\n{close}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    // The sequence a new user tried, then HEADs between and after GETs.
    let sequences: [&[(&str, &str)]; 3] = [
        &[
            ("GET", ""),
            ("POST", ""),
            ("HEAD", ""),
            ("GET", "/start"),
            ("GET", "/1"),
        ],
        &[
            ("GET", ""),
            ("HEAD", ""),
            ("GET", ""),
            ("HEAD", ""),
            ("HEAD", ""),
            ("GET", "/0"),
        ],
        &[
            ("HEAD", ""),
            ("HEAD", "/start"),
            ("GET", "/nope"),
            ("HEAD", "/nope"),
            ("GET", ""),
        ],
    ];
    let mut stored = 0;
    for sequence in sequences {
        let mut sent = String::new();
        for (i, (method, suffix)) in sequence.iter().enumerate() {
            sent.push_str(&request(method, suffix, i + 1 == sequence.len()));
        }
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        stream.write_all(sent.as_bytes()).await.unwrap();
        let mut received = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received))
            .await
            .expect("the connection closes after the last answer")
            .unwrap();
        let methods: Vec<&str> = sequence.iter().map(|(m, _)| *m).collect();
        let (answers, left) = pipelined_answers(&received, &methods);
        let text = String::from_utf8_lossy(&received);
        assert_eq!(answers.len(), sequence.len(), "{text}");
        assert_eq!(left, 0, "bytes after the last answer: {text}");
        for ((method, suffix), (status, body)) in sequence.iter().zip(&answers) {
            if *suffix == "/nope" {
                assert_eq!(*status, 404, "{method} {suffix}: {text}");
            } else {
                assert_eq!(*status, 200, "{method} {suffix}: {text}");
                stored += 1;
            }
            if *method == "HEAD" {
                assert_eq!(body, "", "{text}");
            } else if *status == 200 {
                assert_eq!(body, "OK", "{method} {suffix}: {text}");
            }
        }
    }
    assert_eq!(app.ping_count(hb.id).await, stored);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_and_exit_code_pings_keep_the_first_kilobyte_as_detail() {
    let app = TestApp::start().await;
    let (scope, hb) = app.hourly().await;
    let url = app.url(&hb);
    let body = "é".repeat(600); // 1200 bytes
    for signal in ["/fail", "/1", "/0", "/start", ""] {
        let r = app
            .http
            .post(format!("{url}{signal}"))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{signal}");
    }

    let pings = history(&app, &scope, &hb).await;
    let details: Vec<(&str, Option<i16>, Option<usize>)> = pings
        .iter()
        .rev()
        .map(|p| {
            (
                p.kind.as_str(),
                p.exit_code,
                p.detail.as_ref().map(String::len),
            )
        })
        .collect();
    assert_eq!(
        details,
        vec![
            ("fail", None, Some(1024)),
            ("fail", Some(1), Some(1024)),
            ("success", Some(0), Some(1024)),
            ("start", None, None),
            ("success", None, None),
        ],
        "failures and exit codes keep a detail; start and plain success pings do not"
    );
    for ping in pings.iter().filter(|p| p.detail.is_some()) {
        assert_eq!(ping.body_size, 1200);
        assert!(ping.detail.as_deref().unwrap().chars().all(|c| c == 'é'));
    }
}
