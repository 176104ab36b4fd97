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
        .insert_header((CONTENT_TYPE, "text/plain; charset=utf-8"))
        .body("OK")
}

fn addr() -> Result<SocketAddr, String> {
    let raw = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("LIFELINE_INGEST_ADDR").ok())
        .unwrap_or_else(|| "127.0.0.1:18180".to_owned());
    raw.parse()
        .map_err(|e| format!("bench_baseline: bad address {raw:?}: {e}"))
}

fn workers() -> Result<Option<usize>, String> {
    match std::env::var("LIFELINE_INGEST_WORKERS") {
        Err(_) => Ok(None),
        Ok(raw) => match raw.trim().parse::<usize>() {
            Ok(0) => Ok(None),
            Ok(n) => Ok(Some(n)),
            Err(e) => Err(format!("LIFELINE_INGEST_WORKERS: {raw:?}: {e}")),
        },
    }
}

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let (addr, workers) = match (addr(), workers()) {
        (Ok(a), Ok(w)) => (a, w),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    // Same server knobs as the real service (backlog, worker count); only the handler differs.
    let mut server = HttpServer::new(|| {
        App::new().service(
            web::resource("/api/v1/hb/{token}")
                .route(web::get().to(ping))
                .route(web::post().to(ping))
                .route(web::head().to(ping)),
        )
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
