//! The ping write path alone, for `scripts/bench/ingest`: batches of pings staged and committed
//! by the same two calls the ingest writer makes (`pings::stage_batch`, `pings::commit_staged`),
//! back to back on one connection, with no HTTP, token lookup, rate limit or queue in front.
//! What this stores per second is what one writer's chain of Postgres statements allows on this
//! machine: the real service, which answers HTTP on the same two cores, can only come below it.
//!
//! Usage: `DATABASE_URL=… bench_write_path TARGETS SECONDS BATCH`. TARGETS is a file of
//! `heartbeat-id team-id` lines (the bench writes them in random order); each batch takes the
//! next BATCH of them, cycling, so a batch's heartbeats are distinct and spread over the table as
//! random pings are. The pings look like the bench's own (GET and POST alternately, from
//! 127.0.0.1, with its user agent; a POST's body is not kept, as for a plain success).
//!
//! Three unmeasured batches come first (statements prepared, as in a running writer). Prints
//! `@measuring` when the measured window starts, then `@pings=…`, `@batches=…`, `@seconds=…`,
//! `@pings_per_sec=…` and `@done` when it ends, and keeps its connection until its standard
//! input closes (run it with `</dev/null` by hand): its Postgres backend, which exits with the
//! connection, is still there for the caller to read its CPU time at both marks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::time::{Duration, Instant};

use lifeline_domain::{FlapPolicy, HeartbeatId, PingKind, TeamId};
use lifeline_store::pings::{self, NewPing, NoModels, Received, Recorded};

const WARMUP_BATCHES: usize = 3;
/// What `scripts/bench/ingest.lua` sends: a POST carries this body.
const POST_BODY: &str = "bench: job done\n";

fn targets(path: &str) -> Vec<(HeartbeatId, TeamId)> {
    let text = std::fs::read_to_string(path).expect("the targets file");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (heartbeat, team) = line.split_once(' ').expect("`heartbeat-id team-id`");
            (
                HeartbeatId::parse(heartbeat.trim()).expect("a heartbeat id"),
                TeamId::parse(team.trim()).expect("a team id"),
            )
        })
        .collect()
}

fn ping(heartbeat: HeartbeatId, team: TeamId, post: bool) -> NewPing {
    NewPing {
        heartbeat,
        team,
        received: Received::Arrived(Instant::now()),
        kind: PingKind::Success,
        exit_code: None,
        method: if post { "POST" } else { "GET" },
        remote_addr: Some("127.0.0.1".into()),
        user_agent: Some("lifeline-bench".into()),
        body_size: if post { POST_BODY.len() as i64 } else { 0 },
        detail: None,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: bench_write_path TARGETS SECONDS BATCH");
        std::process::exit(2);
    }
    let targets = targets(&args[1]);
    let seconds: f64 = args[2].parse().expect("seconds");
    let size: usize = args[3].parse().expect("a batch size");
    assert!(
        size >= 1 && size <= targets.len(),
        "the batch size must be between 1 and the number of targets ({})",
        targets.len()
    );
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let mut conn = lifeline_store::pg::connect(&url)
        .await
        .expect("Postgres answers");
    let flapping = FlapPolicy::default();

    let mut next = 0usize;
    let mut sent = 0usize;
    let mut batch = Vec::with_capacity(size);
    let (mut pings, mut batches) = (0usize, 0usize);
    let mut started = Instant::now();
    let window = Duration::from_secs_f64(seconds);
    for round in 0.. {
        if round == WARMUP_BATCHES {
            println!("@measuring");
            started = Instant::now();
        }
        if round >= WARMUP_BATCHES && started.elapsed() >= window {
            break;
        }
        batch.clear();
        for _ in 0..size {
            let (heartbeat, team) = targets[next];
            next = (next + 1) % targets.len();
            batch.push(ping(heartbeat, team, sent % 2 == 1));
            sent += 1;
        }
        let staged = pings::stage_batch(&mut conn, &batch, &mut NoModels, &flapping)
            .await
            .expect("batch staged");
        let (outcome, _) = pings::commit_staged(&mut conn, staged)
            .await
            .expect("batch committed");
        let stored = outcome.iter().filter(|o| **o == Recorded::Stored).count();
        assert_eq!(stored, batch.len(), "every heartbeat of the batch exists");
        if round >= WARMUP_BATCHES {
            pings += stored;
            batches += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!("@pings={pings}");
    println!("@batches={batches}");
    println!("@seconds={elapsed:.3}");
    println!("@pings_per_sec={:.0}", pings as f64 / elapsed);
    println!("@done");
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(conn);
}
