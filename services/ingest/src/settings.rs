//! The ping API's settings (README, "Configuration").

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::http::header::HeaderName;
use lifeline_settings::{SettingError, Source};

/// Settings of the ping API. Environment variables and defaults are documented in the README.
#[derive(Clone, Debug)]
pub struct IngestSettings {
    /// `LIFELINE_INGEST_ADDR`, default `127.0.0.1:8080`: the ping API and `/healthz`.
    pub addr: SocketAddr,
    /// `LIFELINE_INGEST_OPS_ADDR`, default `127.0.0.1:8084`: `/healthz`, `/readyz` (which
    /// queries Postgres) and `/metrics`, kept off the public address.
    pub ops_addr: SocketAddr,
    /// `LIFELINE_PING_RATE_LIMIT`: pings a heartbeat may send per window (default 300 per
    /// minute: five a second, so a job pinging every second, with a start signal each time,
    /// stays far below it). 0 turns the limit off.
    pub rate_limit: u32,
    /// `LIFELINE_PING_RATE_WINDOW_SECS`, default 60.
    pub rate_window: Duration,
    /// `LIFELINE_UNKNOWN_TOKEN_LIMIT`: answers about unknown tokens one client address may get
    /// per rate window before its further lookups are refused with `429` (default 60; 0 turns
    /// the limit off). Repeats of a token already known to be unknown are not counted.
    pub unknown_token_limit: u32,
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
    pub fn from_source(source: &Source) -> Result<Self, SettingError> {
        Ok(Self {
            addr: source.parsed(
                "LIFELINE_INGEST_ADDR",
                SocketAddr::from(([127, 0, 0, 1], 8080)),
            )?,
            ops_addr: source.parsed(
                "LIFELINE_INGEST_OPS_ADDR",
                SocketAddr::from(([127, 0, 0, 1], 8084)),
            )?,
            rate_limit: source.parsed("LIFELINE_PING_RATE_LIMIT", 300)?,
            rate_window: Duration::from_secs(source.at_least(
                "LIFELINE_PING_RATE_WINDOW_SECS",
                60,
                1,
            )?),
            unknown_token_limit: source.parsed("LIFELINE_UNKNOWN_TOKEN_LIMIT", 60)?,
            trusted_proxy_header: source.optional_parsed("LIFELINE_TRUSTED_PROXY_HEADER")?,
            writers: source.at_least("LIFELINE_INGEST_WRITERS", 1, 1)?,
            max_batch: source.at_least("LIFELINE_INGEST_MAX_BATCH", 2000, 1)?,
            commit_timeout: source.millis("LIFELINE_INGEST_COMMIT_TIMEOUT_MS", 5_000)?,
            // 0, like unset, leaves the choice to actix: one worker per core.
            workers: Some(source.parsed("LIFELINE_INGEST_WORKERS", 0)?).filter(|&n| n > 0),
        })
    }

    /// Defaults, listening on `addr` (tests use port 0), with two writers so that tests exercise
    /// concurrent commits.
    pub fn local(addr: SocketAddr) -> Self {
        Self {
            addr,
            ops_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            rate_limit: 300,
            rate_window: Duration::from_secs(60),
            unknown_token_limit: 60,
            trusted_proxy_header: None,
            writers: 2,
            max_batch: 2000,
            commit_timeout: Duration::from_secs(5),
            workers: Some(2),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn an_empty_source_gives_the_documented_defaults() {
        let s = IngestSettings::from_source(&Source::empty()).unwrap();
        assert_eq!(s.addr, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert_eq!(s.ops_addr, SocketAddr::from(([127, 0, 0, 1], 8084)));
        assert_eq!(s.rate_limit, 300);
        assert_eq!(s.rate_window, Duration::from_secs(60));
        assert_eq!(s.unknown_token_limit, 60);
        assert_eq!(s.trusted_proxy_header, None);
        assert_eq!(s.writers, 1);
        assert_eq!(s.max_batch, 2000);
        assert_eq!(s.commit_timeout, Duration::from_millis(5_000));
        assert_eq!(s.workers, None);
    }

    #[test]
    fn values_are_read() {
        let s = IngestSettings::from_source(&Source::from_pairs([
            ("LIFELINE_INGEST_ADDR", "0.0.0.0:9000"),
            ("LIFELINE_PING_RATE_LIMIT", "0"),
            ("LIFELINE_PING_RATE_WINDOW_SECS", "10"),
            ("LIFELINE_UNKNOWN_TOKEN_LIMIT", "7"),
            ("LIFELINE_TRUSTED_PROXY_HEADER", "X-Forwarded-For"),
            ("LIFELINE_INGEST_WRITERS", "3"),
            ("LIFELINE_INGEST_MAX_BATCH", "100"),
            ("LIFELINE_INGEST_COMMIT_TIMEOUT_MS", "750"),
            ("LIFELINE_INGEST_WORKERS", "4"),
        ]))
        .unwrap();
        assert_eq!(s.addr, SocketAddr::from(([0, 0, 0, 0], 9000)));
        assert_eq!(s.rate_limit, 0);
        assert_eq!(s.rate_window, Duration::from_secs(10));
        assert_eq!(s.unknown_token_limit, 7);
        assert_eq!(
            s.trusted_proxy_header,
            Some(HeaderName::from_static("x-forwarded-for"))
        );
        assert_eq!(s.writers, 3);
        assert_eq!(s.max_batch, 100);
        assert_eq!(s.commit_timeout, Duration::from_millis(750));
        assert_eq!(s.workers, Some(4));
        let zero = Source::from_pairs([("LIFELINE_INGEST_WORKERS", "0")]);
        assert_eq!(IngestSettings::from_source(&zero).unwrap().workers, None);
    }

    #[test]
    fn a_wrong_value_names_its_variable() {
        for (name, value) in [
            ("LIFELINE_INGEST_ADDR", "localhost"),
            ("LIFELINE_PING_RATE_LIMIT", "lots"),
            ("LIFELINE_PING_RATE_WINDOW_SECS", "0"),
            ("LIFELINE_UNKNOWN_TOKEN_LIMIT", "-3"),
            ("LIFELINE_TRUSTED_PROXY_HEADER", "bad header"),
            ("LIFELINE_INGEST_WRITERS", "0"),
            ("LIFELINE_INGEST_MAX_BATCH", "0"),
            ("LIFELINE_INGEST_COMMIT_TIMEOUT_MS", "5s"),
            ("LIFELINE_INGEST_WORKERS", "-1"),
        ] {
            let err =
                IngestSettings::from_source(&Source::from_pairs([(name, value)])).unwrap_err();
            assert_eq!(err.name, name, "{name}={value}: {err}");
        }
    }
}
