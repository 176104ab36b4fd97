//! "200 means durable": Postgres goes away in the middle of a stream of pings, and afterwards
//! every acknowledged ping is stored and nothing unacknowledged is.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lifeline_store::schema::pings;
use reqwest::StatusCode;
use tokio::sync::Mutex;

use lifeline_testkit::chaos::postgres_proxy;
use lifeline_testkit::{TestApp, local_settings, via, wait_until};

/// Sends `total` pings from 16 concurrent clients, each tagged with its sequence number in the
/// user agent; returns the sequence numbers answered 200 and the number answered 503 or not at
/// all. The rate limit is off in these tests so that every refusal is the outage's doing.
async fn stream_pings(
    app: &TestApp,
    url: &str,
    total: usize,
    during: impl AsyncFnOnce(),
) -> (HashSet<usize>, usize) {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let clients: Vec<_> = (0..16)
        .map(|_| {
            let (next, acked, refused, http, url) = (
                next.clone(),
                acked.clone(),
                refused.clone(),
                app.http.clone(),
                url.to_owned(),
            );
            tokio::spawn(async move {
                loop {
                    let seq = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if seq >= total {
                        break;
                    }
                    let answer = http
                        .get(&url)
                        .header("User-Agent", format!("seq-{seq}"))
                        .send()
                        .await;
                    match answer {
                        Ok(r) if r.status() == StatusCode::OK => {
                            acked.lock().await.insert(seq);
                        }
                        Ok(r) => {
                            // The only acceptable refusal is "unavailable, retry".
                            assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
                            refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        Err(_) => {
                            refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                    }
                }
            })
        })
        .collect();
    during().await;
    for c in clients {
        c.await.unwrap();
    }
    let acked = acked.lock().await.clone();
    (
        acked,
        std::sync::atomic::AtomicUsize::load(&refused, std::sync::atomic::Ordering::SeqCst),
    )
}

async fn stored_sequence_numbers(app: &TestApp) -> HashSet<usize> {
    let agents: Vec<Option<String>> = pings::table
        .select(pings::user_agent)
        .load(&mut app.conn().await)
        .await
        .unwrap();
    agents
        .into_iter()
        .flatten()
        .filter_map(|ua| ua.strip_prefix("seq-").and_then(|n| n.parse().ok()))
        .collect()
}

/// Backends terminated mid-stream: a terminated backend either committed (and said so) or
/// rolled back, so acknowledged and stored must match exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_backends_lose_nothing_acknowledged() {
    let mut settings = local_settings();
    settings.rate_limit = 0;
    let app = TestApp::start_with(settings, |s| s).await;
    let (_, hb) = app.hourly().await;
    let db = app.db.name.clone();
    let killer_conn = app.db.conn().await;
    let (acked, refused) = stream_pings(&app, &app.url(&hb), 3000, async move || {
        let mut conn = killer_conn;
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(60)).await;
            diesel::sql_query(format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{db}' AND pid <> pg_backend_pid()"
            ))
            .execute(&mut conn)
            .await
            .unwrap();
        }
    })
    .await;
    let stored = stored_sequence_numbers(&app).await;
    println!(
        "acked {} refused {} stored {}",
        acked.len(),
        refused,
        stored.len()
    );
    assert!(
        refused > 0,
        "the outage must have refused some pings, or it tested nothing"
    );
    assert_eq!(
        stored, acked,
        "stored pings must be exactly the acknowledged ones"
    );
}

/// The network to Postgres cut mid-stream (no answers at all): pings get 503 fast, nothing
/// acknowledged is lost. The only pings that may be stored without a 200 are those whose COMMIT
/// reached Postgres just before the cut, when the acknowledgement could not come back: at most
/// one batch per writer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_cut_to_postgres_answers_503_fast_and_loses_nothing() {
    let pg = postgres_proxy().await;
    let mut settings = local_settings();
    settings.commit_timeout = Duration::from_secs(2);
    settings.rate_limit = 0;
    let pg_addr = pg.addr;
    let app = TestApp::start_with(settings.clone(), |mut s| {
        s.database_url = via(&s.database_url, pg_addr);
        s
    })
    .await;
    let (_, hb) = app.hourly().await;
    let url = app.url(&hb);
    assert_eq!(app.get_status(&url).await, StatusCode::OK);

    let pg = Arc::new(pg);
    let proxy = pg.clone();
    let (http, url2, app_ref, id) = (app.http.clone(), url.clone(), &app, hb.id);
    let (acked, refused) = stream_pings(&app, &url, 4000, async move || {
        // Cut once the stream is flowing.
        let flowing = wait_until(Duration::from_secs(10), async || {
            app_ref.ping_count(id).await > 100
        });
        assert!(flowing.await, "the stream of pings never got going");
        proxy.cut();
        // While cut, a ping is refused quickly with 503.
        let started = Instant::now();
        let during = http
            .get(&url2)
            .header("User-Agent", "probe")
            .send()
            .await
            .unwrap();
        assert_eq!(during.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "503 took {:?}",
            started.elapsed()
        );
        assert_eq!(during.headers()["retry-after"], "1");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        proxy.restore();
    })
    .await;
    assert_eq!(app.get_status(&url).await, StatusCode::OK, "recovers");

    let stored = stored_sequence_numbers(&app).await;
    let lost: Vec<_> = acked.difference(&stored).collect();
    let unacknowledged: Vec<_> = stored.difference(&acked).collect();
    println!(
        "acked {} refused {} stored {} unacknowledged-but-stored {}",
        acked.len(),
        refused,
        stored.len(),
        unacknowledged.len()
    );
    assert!(refused > 0, "the cut must have refused some pings");
    assert!(lost.is_empty(), "acknowledged pings lost: {lost:?}");
    assert!(unacknowledged.len() <= settings.writers * settings.max_batch);
}
