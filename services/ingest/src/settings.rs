use std::net::SocketAddr;
use std::time::Duration;

use actix_web::http::header::HeaderName;
use lifeline_store::settings::{EnvError, millis, parsed, string};

/// Settings of the ping API. Environment variables and defaults are documented in the README.
#[derive(Clone, Debug)]
pub struct IngestSettings {
    /// `LIFELINE_INGEST_ADDR`, default `127.0.0.1:8080`.
    pub addr: SocketAddr,
    /// `LIFELINE_PING_RATE_LIMIT`: pings a heartbeat may send per window (default 300 per
    /// minute: five a second, so a job pinging every second, with a start signal each time,
    /// stays far below it). 0 turns the limit off.
    pub rate_limit: u32,
    /// `LIFELINE_PING_RATE_WINDOW_SECS`, default 60.
    pub rate_window: Duration,
    /// `LIFELINE_TRUSTED_PROXY_HEADER`: the header a trusted reverse proxy puts the client
    /// address in (e.g. `X-Forwarded-For`). Unset: the peer address is used and headers ignored.
    pub trusted_proxy_header: Option<HeaderName>,
    /// `LIFELINE_INGEST_WRITERS`: concurrent group-commit transactions (default 1; on a
    /// 2-core machine one writer makes the largest batches and the most pings per second, see
    /// the ingest benchmark; more help where the disk flushes fast and cores are many).
    pub writers: usize,
    /// `LIFELINE_INGEST_MAX_BATCH`: most pings in one transaction (default 2000).
    pub max_batch: usize,
    /// `LIFELINE_INGEST_COMMIT_TIMEOUT_MS`: a batch not committed by then is answered 503
    /// (default 5000).
    pub commit_timeout: Duration,
    /// `LIFELINE_INGEST_WORKERS`: HTTP worker threads (default: one per core).
    pub workers: Option<usize>,
}

/// Largest request body accepted (its size is recorded, its content not kept).
pub const MAX_BODY_BYTES: u64 = 10 * 1024 * 1024;

impl IngestSettings {
    pub fn from_env() -> Result<Self, EnvError> {
        let addr = parsed(
            "LIFELINE_INGEST_ADDR",
            SocketAddr::from(([127, 0, 0, 1], 8080)),
        )?;
        let header = string("LIFELINE_TRUSTED_PROXY_HEADER", "")?;
        let trusted_proxy_header = if header.is_empty() {
            None
        } else {
            Some(HeaderName::try_from(header.as_str()).map_err(|e| EnvError {
                name: "LIFELINE_TRUSTED_PROXY_HEADER",
                reason: format!("{header:?} is not a header name: {e}"),
            })?)
        };
        let window = parsed("LIFELINE_PING_RATE_WINDOW_SECS", 60u64)?;
        if window == 0 {
            return Err(EnvError {
                name: "LIFELINE_PING_RATE_WINDOW_SECS",
                reason: "must be at least 1".into(),
            });
        }
        let writers = parsed("LIFELINE_INGEST_WRITERS", 1usize)?;
        let max_batch = parsed("LIFELINE_INGEST_MAX_BATCH", 2000usize)?;
        if writers == 0 || max_batch == 0 {
            return Err(EnvError {
                name: if writers == 0 {
                    "LIFELINE_INGEST_WRITERS"
                } else {
                    "LIFELINE_INGEST_MAX_BATCH"
                },
                reason: "must be at least 1".into(),
            });
        }
        let workers = parsed("LIFELINE_INGEST_WORKERS", 0usize)?;
        Ok(Self {
            addr,
            rate_limit: parsed("LIFELINE_PING_RATE_LIMIT", 300u32)?,
            rate_window: Duration::from_secs(window),
            trusted_proxy_header,
            writers,
            max_batch,
            commit_timeout: millis("LIFELINE_INGEST_COMMIT_TIMEOUT_MS", 5_000)?,
            workers: (workers > 0).then_some(workers),
        })
    }

    /// Defaults, listening on `addr` (tests use port 0), with two writers so that tests exercise
    /// concurrent commits.
    pub fn local(addr: SocketAddr) -> Self {
        Self {
            addr,
            rate_limit: 300,
            rate_window: Duration::from_secs(60),
            trusted_proxy_header: None,
            writers: 2,
            max_batch: 2000,
            commit_timeout: Duration::from_secs(5),
            workers: Some(2),
        }
    }
}
