//! What an AI heartbeat's model costs, timed without the service's loop around it:
//! `scripts/bench/analyzer` runs this next to the real `lifeline analyzer` process.
//!
//! On one connection and in one process it:
//!   1. claims every due AI heartbeat (`ai_models::claim_due`, as the service does: the zone is
//!      the heartbeat's own, else its team's) and, for each, times back to back the read of
//!      its training history (`ai_models::history` + `ai_models::unusual` over
//!      `learning::WINDOW`, turned into the cadence crate's types as `training.rs` does) and the
//!      training (`learning::train`, `Strategy::Combined`, inline rather than on the blocking
//!      pool), then saves the model with `ai_models::save_trained` and the service's recount
//!      (`learning::relearn`), timed apart;
//!   2. times the parts of `Model::train` again on every `pieces`-th heartbeat's inputs
//!      (feature extraction, the timetable, the gaps' tail, the gaps' mixture, the sizes'
//!      model): not part of the training time above, only where it goes;
//!   3. times the deadline update of every ping, `Model::after_ping`, over the next day of
//!      5-minute pings of `sample` models spread over the heartbeats;
//!   4. times what ingest does on a cache miss: `ai_models::load` of one heartbeat (the query,
//!      with diesel's jsonb parse) and `serde_json::from_value::<Model>` of its `params`;
//!   5. measures the memory a loaded model holds: a fresh process of this example
//!      (`--memory <bytes>`) is given every stored model's JSON on stdin, one per line, and
//!      reports its resident set (/proc/self/status) as it parses them all into one
//!      `Vec<Model>`, then into a second one: the growth per model. A fresh process, because
//!      here the heap freed by the steps above would take the models in without the resident
//!      set growing at all.
//!
//! Usage: `DATABASE_URL=… bench_analyzer <heartbeats> [sample] [pieces]` (defaults 100 and 10).
//! Prints `@<name>=<value>` lines (milliseconds unless the name says `_us` or `_bytes`), and
//! progress on stderr.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::{Duration, Utc};
use chrono_tz::Tz;
use lifeline_analyzer::learning;
use lifeline_analyzer::training;
use lifeline_cadence::mixture::{Mixture, circular};
use lifeline_cadence::tail::Tail;
use lifeline_cadence::timetable::Timetable;
use lifeline_cadence::{HistoryPing, Model, Strategy, Unusual, extract};
use lifeline_domain::{HeartbeatTiming, PingKind};
use lifeline_store::ai_models::{self, Claimed};

/// Deadline updates timed per sampled model: a day of 5-minute pings.
const PINGS_PER_MODEL: i64 = 288;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Prints `@{name}_p50…` lines for `values` (sorted here).
fn summary(name: &str, values: &mut [f64]) {
    values.sort_by(f64::total_cmp);
    if values.is_empty() {
        println!("@{name}_count=0");
        return;
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    for p in [50.0, 90.0, 99.0] {
        println!("@{name}_p{p}={:.3}", percentile(values, p));
    }
    println!("@{name}_mean={mean:.3}");
    println!("@{name}_max={:.3}", values[values.len() - 1]);
    println!("@{name}_count={}", values.len());
}

fn ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1e3
}

/// Resident set of this process, in bytes (`VmRSS` of /proc/self/status, the same figure as
/// the second field of /proc/self/statm, in kB rather than pages).
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kb * 1024
}

/// The parts of `Model::train` (libs/cadence/src/model.rs) timed one by one on the same inputs,
/// in ms: extract, timetable, gap tail, gap mixture, sizes. Runs are left out: these
/// heartbeats send no start pings, so the run model stops at its first check.
fn pieces(pings: &[HistoryPing], unusual: &Unusual, tz: Tz) -> [f64; 5] {
    let t = Instant::now();
    let f = extract(pings, tz, unusual);
    let extract_ms = ms(t);
    let (Some(first), Some(last)) = (f.first, f.last) else {
        return [extract_ms, 0.0, 0.0, 0.0, 0.0];
    };
    let weeks = ((last - first).num_seconds() as f64 / (7.0 * 86_400.0)).max(1.0 / 7.0);
    let per_week = f.gaps.len() as f64 / weeks;

    let t = Instant::now();
    let fitted = Timetable::fit(&f.gaps, per_week);
    let timetable_ms = ms(t);

    let t = Instant::now();
    black_box(fitted.as_ref().and_then(|f| Tail::learn(&f.residuals)));
    let tail_ms = ms(t);

    let t = Instant::now();
    let rows: Vec<Vec<f64>> = f
        .gaps
        .iter()
        .filter(|g| g.secs > 0.0)
        .map(|g| {
            let mut row = vec![g.secs.ln()];
            row.extend(circular(g.from.day_secs(), g.from.weekday()));
            row
        })
        .collect();
    black_box(Mixture::train(&rows));
    let mixture_ms = ms(t);

    let t = Instant::now();
    let logs: Vec<f64> = f.sizes.iter().map(|s| (s + 1.0).ln()).collect();
    if f.sizes.iter().filter(|s| **s > 0.0).count() * 2 >= f.sizes.len() && logs.len() >= 5 {
        let mut sorted = logs.clone();
        sorted.sort_by(f64::total_cmp);
        let usual = sorted[sorted.len() / 2];
        let above: Vec<f64> = logs.iter().map(|l| l - usual).collect();
        let below: Vec<f64> = above.iter().map(|r| -r).collect();
        black_box(Mixture::train(
            &logs.iter().map(|l| vec![*l]).collect::<Vec<_>>(),
        ));
        black_box((Tail::learn(&above), Tail::learn(&below)));
    }
    let sizes_ms = ms(t);
    [extract_ms, timetable_ms, tail_ms, mixture_ms, sizes_ms]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, bytes] = args.as_slice()
        && flag == "--memory"
    {
        return memory(bytes.parse().expect("a byte count"));
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(bench(args));
}

async fn bench(args: Vec<String>) {
    if args.len() < 2 {
        eprintln!("usage: bench_analyzer <heartbeats> [sample] [pieces]");
        std::process::exit(2);
    }
    let expected: i32 = args[1].parse().expect("a heartbeat count");
    let sample: usize = args.get(2).map_or(100, |n| n.parse().expect("a count"));
    let every: usize = args.get(3).map_or(10, |n| n.parse().expect("a count"));
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let mut conn = lifeline_store::pg::connect(&url)
        .await
        .expect("Postgres answers");

    // 1. Read, train, save: every heartbeat the service would claim.
    let claimed = ai_models::claim_due(&conn, Utc::now(), expected, Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        claimed.len(),
        expected as usize,
        "every heartbeat is due for training"
    );
    let (mut reads, mut trains, mut saves) = (Vec::new(), Vec::new(), Vec::new());
    let mut parts: Vec<[f64; 5]> = Vec::new();
    let (mut pings_read, mut json_bytes, mut not_eligible) = (0usize, 0usize, 0usize);
    let mut trained: Vec<(Claimed, Model)> = Vec::with_capacity(claimed.len());
    for (i, c) in claimed.into_iter().enumerate() {
        if i > 0 && i % 100 == 0 {
            eprintln!("[bench_analyzer] {i} of {expected} heartbeats done");
        }
        let now = Utc::now();
        let tz: Tz = c.time_zone.parse().expect("a zone this binary knows");

        let t = Instant::now();
        let (pings, unusual) = training::read_window(&conn, c.heartbeat, now)
            .await
            .unwrap();
        reads.push(ms(t));

        let t = Instant::now();
        let model = learning::train(&pings, &unusual, tz, now, Strategy::Combined);
        trains.push(ms(t));
        pings_read += pings.len();

        if i % every == 0 {
            parts.push(pieces(&pings, &unusual, tz));
        }
        let Some(model) = model else {
            not_eligible += 1;
            continue;
        };
        let stored = training::new_model(&model).unwrap();
        json_bytes += serde_json::to_string(&stored.params).unwrap().len();
        let t = Instant::now();
        let schedule = c.schedule;
        let saved = ai_models::save_trained(
            &mut conn,
            c.heartbeat,
            Some(stored),
            learning::next_training(now, true),
            |timing| learning::relearn(timing, Some(&model), schedule, now, &[]),
        )
        .await
        .unwrap();
        saves.push(ms(t));
        assert!(saved.is_some(), "the heartbeat is in AI mode");
        trained.push((c, model));
    }
    let n = trained.len();
    assert!(n > 0, "no heartbeat was eligible for training");
    println!("@heartbeats={expected}");
    println!("@trained={n}");
    println!("@not_eligible={not_eligible}");
    println!(
        "@pings_read_mean={:.0}",
        pings_read as f64 / expected as f64
    );
    summary("read", &mut reads);
    summary("train", &mut trains);
    summary("save", &mut saves);
    println!("@json_bytes_mean={:.0}", json_bytes as f64 / n as f64);
    for (k, name) in ["extract", "timetable", "gap_tail", "gap_mixture", "sizes"]
        .iter()
        .enumerate()
    {
        let mean = parts.iter().map(|p| p[k]).sum::<f64>() / parts.len().max(1) as f64;
        println!("@part_{name}_mean={mean:.3}");
    }
    println!("@parts_count={}", parts.len());

    // 3. The deadline update after each ping, on `sample` models spread over the heartbeats.
    let step = n.div_ceil(sample.clamp(1, n));
    let mut updates = Vec::new();
    let mut surprises = 0usize;
    for (c, m) in trained.iter().step_by(step) {
        let typical = m.sizes.as_ref().map_or(0, |s| s.typical_bytes);
        let before = HeartbeatTiming::new(c.schedule);
        for j in 1..=PINGS_PER_MODEL {
            // The next day of pings: 5 minutes apart with a few seconds of jitter, sizes around
            // the usual one, an empty body now and then.
            let at = m.window_until
                + Duration::seconds(300 * j)
                + Duration::milliseconds((j * 7919) % 5000);
            let size = if j % 97 == 0 {
                0
            } else {
                typical * (90 + (j as u64 * 31) % 20) / 100
            };
            let t = Instant::now();
            let learned = m.after_ping(at, PingKind::Success, size, &before);
            updates.push(t.elapsed().as_secs_f64() * 1e6);
            surprises += usize::from(
                black_box(learned)
                    .and_then(|l| l.payload_surprise())
                    .is_some(),
            );
        }
    }
    summary("update_us", &mut updates);
    println!("@update_models={}", n.div_ceil(step));
    println!("@update_surprises={surprises}");

    // 4. A cache miss in ingest: the stored model read back and deserialized.
    let (mut queries, mut parses) = (Vec::new(), Vec::new());
    let mut texts: Vec<String> = Vec::with_capacity(n);
    for (c, _) in &trained {
        let t = Instant::now();
        let mut rows = ai_models::load(&conn, &[c.heartbeat]).await.unwrap();
        queries.push(ms(t));
        let (_, stored) = rows.pop().expect("the saved model");
        texts.push(stored.params.to_string());
        let params = stored.params.clone();
        let t = Instant::now();
        let model: Model = serde_json::from_value(params).expect("a stored model loads");
        parses.push(t.elapsed().as_secs_f64() * 1e6);
        black_box(model);
    }
    summary("load_query", &mut queries);
    summary("load_parse_us", &mut parses);

    // 5. Memory: every model held as ingest's cache holds it, in a process of its own.
    let input = texts.join("\n");
    let mut child = Command::new(std::env::current_exe().expect("this example's path"))
        .args(["--memory", &input.len().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::inherit())
        .spawn()
        .expect("the memory probe starts");
    let mut stdin = child.stdin.take().expect("its stdin");
    stdin
        .write_all(input.as_bytes())
        .expect("the models written");
    drop(stdin);
    assert!(
        child.wait().expect("the memory probe ends").success(),
        "the memory probe failed"
    );
}

/// `--memory <bytes>`: reads `bytes` of models, one JSON per line, into a buffer allocated once,
/// then parses them all into one `Vec<Model>`, and again into a second: the growth of the
/// resident set with the second copy, per model, is what holding one more model costs (the
/// first also pays the process's one-time costs, and is printed beside it).
fn memory(bytes: usize) {
    let mut input = String::with_capacity(bytes + 4096);
    std::io::stdin()
        .read_to_string(&mut input)
        .expect("models on stdin");
    let count = input.lines().count();
    let parse_all = || {
        let mut held: Vec<Model> = Vec::with_capacity(count);
        for line in input.lines() {
            held.push(serde_json::from_str(line).expect("a stored model loads"));
        }
        held
    };
    let before = rss_bytes();
    let first = parse_all();
    let once = rss_bytes();
    let second = parse_all();
    let twice = rss_bytes();
    black_box((&first, &second));
    let per_model = |from: u64, to: u64| to.saturating_sub(from) as f64 / count.max(1) as f64;
    println!("@memory_models={count}");
    println!("@rss_before_bytes={before}");
    println!("@rss_once_bytes={once}");
    println!("@rss_twice_bytes={twice}");
    println!(
        "@memory_first_per_model_bytes={:.0}",
        per_model(before, once)
    );
    println!("@memory_per_model_bytes={:.0}", per_model(once, twice));
    println!("@model_struct_bytes={}", std::mem::size_of::<Model>());
}
