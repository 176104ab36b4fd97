//! Baseline for `scripts/bench/ingest`: an actix-web server that answers the ping route exactly
//! like the real service does on success (`200`, `text/plain`, body `OK`) but touches no storage,
//! no cache, no rate limiter. Driving it and the real service with the same load on the same
//! machine tells how much of the ceiling the real work (token lookup, Redis rate limit, group
//! commit in Postgres) costs.
//!
//! Usage: `bench_baseline [ADDR]` (default: `LIFELINE_INGEST_ADDR`, else `127.0.0.1:18180`).
//! Worker threads: `LIFELINE_INGEST_WORKERS` as for the real service (unset or 0: actix's default,
//! one per core), so both servers get the same HTTP parallelism. Stops on SIGINT/SIGTERM.

use std::net::SocketAddr;

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{App, HttpResponse, HttpServer, web};
use futures_util::StreamExt;
use lifeline_ingest::TEXT_PLAIN;
use lifeline_settings::Source;

/// The allocator the `lifeline` binary runs on, so that the two servers differ in their handler only.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Reads and discards the body (the real handler streams it through to count its size), then
/// answers like the real service does once a ping is committed.
async fn ping(mut body: web::Payload) -> HttpResponse {
    let mut size = 0usize;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(bytes) => size += bytes.len(),
            Err(e) => return HttpResponse::BadRequest().body(e.to_string()),
        }
    }
    std::hint::black_box(size);
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, TEXT_PLAIN))
        .body("OK")
}

/// The address (first argument, else `LIFELINE_INGEST_ADDR`, else port 18180) and the worker
/// count (`LIFELINE_INGEST_WORKERS`, 0 for one per core), read like every Lifeline setting.
fn settings() -> Result<(SocketAddr, Option<usize>), String> {
    let source = Source::process();
    let addr = match std::env::args().nth(1) {
        Some(raw) => raw
            .parse()
            .map_err(|e| format!("bench_baseline: bad address {raw:?}: {e}"))?,
        None => source
            .parsed(
                "LIFELINE_INGEST_ADDR",
                SocketAddr::from(([127, 0, 0, 1], 18180)),
            )
            .map_err(|e| e.to_string())?,
    };
    let workers = source
        .parsed("LIFELINE_INGEST_WORKERS", 0usize)
        .map_err(|e| e.to_string())?;
    Ok((addr, (workers > 0).then_some(workers)))
}

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let (addr, workers) = match settings() {
        Ok(read) => read,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    // Same server knobs as the real service (backlog, worker count); only the handler differs.
    let mut server = HttpServer::new(|| {
        // One route whatever the method, as the real service routes (it answers 405 itself).
        App::new().service(web::resource("/api/v1/hb/{token}").to(ping))
    })
    .backlog(4096)
    .shutdown_timeout(1);
    if let Some(n) = workers {
        server = server.workers(n);
    }
    let server = match server.bind(addr) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench_baseline: cannot listen on {addr}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    eprintln!("bench_baseline listening on {addr}");
    match server.run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_baseline: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
