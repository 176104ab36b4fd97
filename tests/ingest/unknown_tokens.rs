//! The limit per client address on unknown tokens (README, "The ping API"): a flood of random
//! tokens must not reach Postgres once its address has had its share.

use std::time::Duration;

use lifeline_domain::PingToken;
use lifeline_testkit::chaos::{postgres_proxy, redis_proxy, via};
use lifeline_testkit::wait::wait_until;
use lifeline_testkit::{TestApp, local_settings};
use reqwest::StatusCode;

/// Settings whose client address comes from `X-Forwarded-For`, so one test can be several
/// clients, with a small unknown-token limit.
fn settings(limit: u32) -> lifeline_ingest::IngestSettings {
    let mut settings = local_settings();
    settings.trusted_proxy_header = Some("x-forwarded-for".parse().unwrap());
    settings.unknown_token_limit = limit;
    settings
}

async fn ping_from(app: &TestApp, base: &str, token: &str, client: &str) -> reqwest::Response {
    app.http
        .get(format!("{base}/api/v1/hb/{token}"))
        .header("x-forwarded-for", client)
        .send()
        .await
        .unwrap()
}

async fn status_from(app: &TestApp, token: &str, client: &str) -> StatusCode {
    ping_from(app, &app.base, token, client).await.status()
}

fn random_token() -> String {
    PingToken::generate().expose().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_past_its_unknown_tokens_is_refused_before_postgres_is_asked() {
    let pg = postgres_proxy().await;
    let pg_addr = pg.addr;
    let app = TestApp::start_with(settings(5), |mut s| {
        s.database_url = via(&s.database_url, pg_addr);
        s
    })
    .await;
    let (_, hb) = app.hourly().await;
    let known = app.url(&hb);
    let known = known.rsplit('/').next().unwrap();
    let flooder = "203.0.113.7";
    assert_eq!(status_from(&app, known, flooder).await, StatusCode::OK);

    let mut tried = Vec::new();
    for _ in 0..5 {
        let token = random_token();
        assert_eq!(
            status_from(&app, &token, flooder).await,
            StatusCode::NOT_FOUND
        );
        tried.push(token);
    }
    let refused = ping_from(&app, &app.base, &random_token(), flooder).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "retry-after {retry_after}");
    assert!(
        refused.text().await.unwrap().contains("unknown ping URLs"),
        "the answer says why"
    );
    // What the process already knows is still answered: the token it has seen pings, and a
    // repeat of a token it just found unknown is a 404, not a 429.
    assert_eq!(status_from(&app, known, flooder).await, StatusCode::OK);
    assert_eq!(
        status_from(&app, &tried[0], flooder).await,
        StatusCode::NOT_FOUND
    );
    // Another address has its own share.
    let neighbour = "198.51.100.20";
    assert_eq!(
        status_from(&app, &random_token(), neighbour).await,
        StatusCode::NOT_FOUND
    );

    // With Postgres unreachable, a lookup would answer 503: the flooder's 429 shows that its
    // requests are refused before any lookup, while the neighbour's still go to Postgres.
    pg.cut();
    assert_eq!(
        status_from(&app, &random_token(), flooder).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        status_from(&app, &random_token(), neighbour).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    pg.restore();
    assert_eq!(app.ping_count(hb.id).await, 2, "both known pings stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_the_count_through_redis() {
    let app = TestApp::start_with(settings(4), |s| s).await;
    let second = lifeline_ingest::start(settings(4), app.store.clone())
        .await
        .expect("a second ingest starts");
    let second_base = format!("http://{}", second.addr);
    let client = "203.0.113.8";
    for base in [&app.base, &app.base, &second_base, &second_base] {
        let answer = ping_from(&app, base, &random_token(), client).await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    }
    // The second process counted the fourth answer: it refuses at once.
    let answer = ping_from(&app, &second_base, &random_token(), client).await;
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    // The first learns it with its next lookup: the tolerance is one lookup per process.
    let answer = ping_from(&app, &app.base, &random_token(), client).await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    let answer = ping_from(&app, &app.base, &random_token(), client).await;
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    second.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_each_process_counts_for_itself() {
    let redis = redis_proxy().await;
    let redis_addr = redis.addr;
    let app = TestApp::start_with(settings(3), |mut s| {
        s.redis_url = format!("redis://{redis_addr}");
        s
    })
    .await;
    let (_, hb) = app.hourly().await;
    redis.cut();
    // Pings still work on Postgres alone.
    let ok = wait_until(Duration::from_secs(5), async || {
        app.get_status(app.url(&hb)).await == StatusCode::OK
    })
    .await;
    assert!(ok, "pings work while Redis is down");
    let client = "203.0.113.9";
    for _ in 0..3 {
        assert_eq!(
            status_from(&app, &random_token(), client).await,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        status_from(&app, &random_token(), client).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    redis.restore();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_of_zero_turns_it_off() {
    let app = TestApp::start_with(settings(0), |s| s).await;
    for _ in 0..20 {
        assert_eq!(
            status_from(&app, &random_token(), "203.0.113.10").await,
            StatusCode::NOT_FOUND
        );
    }
}
