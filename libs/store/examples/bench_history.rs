//! The bare queries behind the dashboard's heartbeat pages, timed without HTTP, session cookie
//! or template: `scripts/bench/web` compares them with the pages' own time (`Server-Timing`).
//!
//! Each page's queries run back to back on one connection, as a request runs them: the
//! membership lookups of the `Member` extractor (`accounts::user`, `accounts::memberships`,
//! `TeamScope::for_member`), then `heartbeats::list` for `/heartbeats`, or `heartbeats::find`
//! and `history::overview` for `/heartbeats/{id}` (its parameters as
//! `web/src/heartbeats/detail.rs` and `range.rs` set them for `range=1d` and `range=90d`).
//!
//! Usage: `DATABASE_URL=… bench_history <user-id> <team-id> <heartbeat-id> [iterations]`.
//! Prints `@<page>_p50_ms=…` and `@<page>_p90_ms=…` lines (and a few counts as a sanity check).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use chrono::{Duration, Utc};
use diesel_async::AsyncPgConnection;
use lifeline_domain::{HeartbeatId, TeamId, UserId};
use lifeline_store::history::{self, OverviewQuery, TimelineQuery};
use lifeline_store::{TeamScope, accounts, heartbeats};

/// What `web/src/heartbeats/detail.rs` asks for (RAW_MARKS, LOG_PAGE, LISTED) and
/// `range.rs`'s bucket width of each range.
const RAW_MARKS: i64 = 600;
const LOG_PAGE: i64 = 50;
const LISTED: i64 = 20;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: bench_history <user-id> <team-id> <heartbeat-id> [iterations]");
        std::process::exit(2);
    }
    let user = UserId::from_uuid(args[1].parse().expect("a user id"));
    let team = TeamId::from_uuid(args[2].parse().expect("a team id"));
    let heartbeat = HeartbeatId::parse(&args[3]).expect("a heartbeat id");
    let iterations: usize = args.get(4).map_or(30, |n| n.parse().expect("a count"));
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let mut conn = lifeline_store::pg::connect(&url)
        .await
        .expect("Postgres answers");

    // The Member extractor's queries, before every page.
    async fn member(conn: &mut AsyncPgConnection, user: UserId, team: TeamId) -> TeamScope {
        accounts::user(conn, user).await.unwrap();
        accounts::memberships(conn, user).await.unwrap();
        TeamScope::for_member(conn, user, team).await.unwrap()
    }

    let detail = |range: Duration, bucket: Duration| {
        move |gap_after: Duration| {
            let now = Utc::now();
            OverviewQuery {
                timeline: TimelineQuery {
                    from: now - range,
                    to: now,
                    raw_limit: RAW_MARKS,
                    bucket,
                    gap_after,
                },
                before: None,
                log_limit: LOG_PAGE,
                listed: LISTED,
            }
        }
    };
    let day = detail(Duration::days(1), Duration::minutes(5));
    let quarter = detail(Duration::days(90), Duration::hours(8));

    for page in ["list", "detail_1d", "detail_90d"] {
        let mut times = Vec::with_capacity(iterations);
        let mut counts = String::new();
        // A few unmeasured runs first: statements prepared, caches warm, as in a running server.
        for i in 0..iterations + 5 {
            let started = Instant::now();
            let scope = member(&mut conn, user, team).await;
            match page {
                "list" => {
                    let all = heartbeats::list(&mut conn, &scope).await.unwrap();
                    counts = format!("heartbeats={}", all.len());
                }
                _ => {
                    let hb = heartbeats::find(&mut conn, &scope, heartbeat)
                        .await
                        .unwrap();
                    let schedule = hb.schedule();
                    let gap_after = schedule.interval() + schedule.grace();
                    let q = if page == "detail_1d" {
                        day(gap_after)
                    } else {
                        quarter(gap_after)
                    };
                    let o = history::overview(&mut conn, &scope, hb.id, q)
                        .await
                        .unwrap();
                    counts = format!(
                        "pings={} marks={} gaps={} log={}",
                        o.timeline.pings,
                        o.timeline.marks.len(),
                        o.timeline.gaps.len(),
                        o.log.len()
                    );
                }
            }
            if i >= 5 {
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(f64::total_cmp);
        println!("@{page}_p50_ms={:.2}", percentile(&times, 50.0));
        println!("@{page}_p90_ms={:.2}", percentile(&times, 90.0));
        println!("@{page}_counts={counts}");
    }
}
