//! The scheduler's settings (README, "Configuration"), with the notification settings of the
//! alerts it sends.

use std::net::SocketAddr;
use std::time::Duration;

use lifeline_notify::{DEFAULT_SMTP_FROM, NotifySettings};
use lifeline_settings::{SettingError, Source};

/// Settings of the scheduler. Environment variables and defaults are documented in the README.
#[derive(Clone, Debug)]
pub struct SchedulerSettings {
    /// `LIFELINE_SCHEDULER_ADDR`: the ops endpoints (`/healthz`, `/readyz`, `/metrics`) of a
    /// process running the scheduler (default `127.0.0.1:8081`).
    pub ops_addr: SocketAddr,
    /// `LIFELINE_SCHEDULER_BATCH`: heartbeats decided per transaction (default 500).
    pub batch: i64,
    /// `LIFELINE_SCHEDULER_POLL_MS`: the longest the loops sleep without a deadline or a wake-up
    /// (default 5000) — only a fallback for lost wake-ups.
    pub max_sleep: Duration,
    /// `LIFELINE_DELIVERY_CONCURRENCY`: notifications sent at once (default 16).
    pub delivery_concurrency: usize,
    /// `LIFELINE_DELIVERY_MAX_ATTEMPTS`: attempts before a notification is marked failed
    /// (default 10).
    pub max_attempts: i32,
    /// `LIFELINE_DELIVERY_BACKOFF_MS`: the first retry's delay; each further retry doubles it,
    /// with jitter, up to `LIFELINE_DELIVERY_BACKOFF_MAX_MS` (defaults 5000 and 3600000).
    pub backoff: Duration,
    pub backoff_max: Duration,
    /// `LIFELINE_PURGE_INTERVAL_MS`: pause between two retention passes (default 900000, a
    /// quarter of an hour: retention is counted in days, and a pass over a million heartbeats
    /// takes about half a minute even when it deletes nothing).
    pub purge_every: Duration,
    /// `LIFELINE_PURGE_CHUNK`: heartbeats per purge statement (default 500), and
    /// `LIFELINE_PURGE_ROWS`: pings deleted per heartbeat per statement (default 1000).
    pub purge_chunk: i64,
    pub purge_rows: i64,
    /// `LIFELINE_PURGE_PAUSE_MS`: pause between purge statements, so ingest keeps the disk
    /// (default 10).
    pub purge_pause: Duration,
    pub notify: NotifySettings,
}

impl SchedulerSettings {
    /// Reads the settings; `public_url` (`LIFELINE_PUBLIC_URL`, read once by the binary) is
    /// the base of the links in alerts.
    pub fn from_source(source: &Source, public_url: &str) -> Result<Self, SettingError> {
        Ok(Self {
            notify: NotifySettings::from_source(source, public_url)?,
            ops_addr: source.parsed(
                "LIFELINE_SCHEDULER_ADDR",
                SocketAddr::from(([127, 0, 0, 1], 8081)),
            )?,
            batch: source.at_least("LIFELINE_SCHEDULER_BATCH", 500, 1)?,
            max_sleep: source.millis("LIFELINE_SCHEDULER_POLL_MS", 5_000)?,
            delivery_concurrency: source.at_least("LIFELINE_DELIVERY_CONCURRENCY", 16, 1)?,
            max_attempts: source.at_least("LIFELINE_DELIVERY_MAX_ATTEMPTS", 10, 1)?,
            backoff: source.millis("LIFELINE_DELIVERY_BACKOFF_MS", 5_000)?,
            backoff_max: source.millis("LIFELINE_DELIVERY_BACKOFF_MAX_MS", 3_600_000)?,
            purge_every: source.millis("LIFELINE_PURGE_INTERVAL_MS", 900_000)?,
            purge_chunk: source.at_least("LIFELINE_PURGE_CHUNK", 500, 1)?,
            purge_rows: source.at_least("LIFELINE_PURGE_ROWS", 1_000, 1)?,
            purge_pause: source.millis("LIFELINE_PURGE_PAUSE_MS", 10)?,
        })
    }

    /// Brisk settings for tests: quick retries and purges, private webhook targets allowed
    /// (the test servers listen on 127.0.0.1).
    pub fn local(public_url: &str) -> Self {
        Self {
            ops_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            batch: 500,
            max_sleep: Duration::from_millis(1_000),
            delivery_concurrency: 16,
            max_attempts: 5,
            backoff: Duration::from_millis(200),
            backoff_max: Duration::from_secs(2),
            purge_every: Duration::from_millis(500),
            purge_chunk: 500,
            purge_rows: 1_000,
            purge_pause: Duration::ZERO,
            notify: NotifySettings {
                smtp_url: None,
                smtp_from: DEFAULT_SMTP_FROM.into(),
                allow_private_targets: true,
                timeout: Duration::from_secs(2),
                public_url: public_url.to_owned(),
            },
        }
    }

    /// How long a claimed notification stays reserved for its sender: longer than any send can
    /// take, so only a dead process's claim ever runs out.
    pub fn delivery_lease(&self) -> Duration {
        self.notify.timeout * 2 + Duration::from_secs(1)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const PUBLIC_URL: &str = "https://lifeline.example.com";

    #[test]
    fn an_empty_source_gives_the_documented_defaults() {
        let s = SchedulerSettings::from_source(&Source::empty(), PUBLIC_URL).unwrap();
        assert_eq!(s.ops_addr, SocketAddr::from(([127, 0, 0, 1], 8081)));
        assert_eq!(s.batch, 500);
        assert_eq!(s.max_sleep, Duration::from_millis(5_000));
        assert_eq!(s.delivery_concurrency, 16);
        assert_eq!(s.max_attempts, 10);
        assert_eq!(s.backoff, Duration::from_millis(5_000));
        assert_eq!(s.backoff_max, Duration::from_millis(3_600_000));
        assert_eq!(s.purge_every, Duration::from_millis(900_000));
        assert_eq!(s.purge_chunk, 500);
        assert_eq!(s.purge_rows, 1_000);
        assert_eq!(s.purge_pause, Duration::from_millis(10));
        assert_eq!(s.notify.public_url, PUBLIC_URL);
        assert_eq!(s.notify.smtp_url, None);
        assert_eq!(
            s.notify.smtp_from, "Lifeline <alerts@lifeline.local>",
            "the documented default"
        );
        assert!(!s.notify.allow_private_targets);
        assert_eq!(s.notify.timeout, Duration::from_secs(10));
    }

    #[test]
    fn values_are_read() {
        let s = SchedulerSettings::from_source(
            &Source::from_pairs([
                ("LIFELINE_SCHEDULER_ADDR", "0.0.0.0:9091"),
                ("LIFELINE_SCHEDULER_BATCH", "50"),
                ("LIFELINE_SCHEDULER_POLL_MS", "100"),
                ("LIFELINE_DELIVERY_CONCURRENCY", "2"),
                ("LIFELINE_DELIVERY_MAX_ATTEMPTS", "3"),
                ("LIFELINE_DELIVERY_BACKOFF_MS", "20"),
                ("LIFELINE_DELIVERY_BACKOFF_MAX_MS", "40"),
                ("LIFELINE_PURGE_INTERVAL_MS", "60"),
                ("LIFELINE_PURGE_CHUNK", "7"),
                ("LIFELINE_PURGE_ROWS", "8"),
                ("LIFELINE_PURGE_PAUSE_MS", "0"),
                ("LIFELINE_ALLOW_PRIVATE_WEBHOOKS", "1"),
            ]),
            PUBLIC_URL,
        )
        .unwrap();
        assert_eq!(s.ops_addr, SocketAddr::from(([0, 0, 0, 0], 9091)));
        assert_eq!(s.batch, 50);
        assert_eq!(s.max_sleep, Duration::from_millis(100));
        assert_eq!(s.delivery_concurrency, 2);
        assert_eq!(s.max_attempts, 3);
        assert_eq!(s.backoff, Duration::from_millis(20));
        assert_eq!(s.backoff_max, Duration::from_millis(40));
        assert_eq!(s.purge_every, Duration::from_millis(60));
        assert_eq!(s.purge_chunk, 7);
        assert_eq!(s.purge_rows, 8);
        assert_eq!(s.purge_pause, Duration::ZERO);
        assert!(s.notify.allow_private_targets);
    }

    #[test]
    fn a_wrong_value_names_its_variable() {
        for (name, value) in [
            ("LIFELINE_SCHEDULER_ADDR", "localhost"),
            ("LIFELINE_SCHEDULER_BATCH", "0"),
            ("LIFELINE_SCHEDULER_POLL_MS", "soon"),
            ("LIFELINE_DELIVERY_CONCURRENCY", "0"),
            ("LIFELINE_DELIVERY_MAX_ATTEMPTS", "-1"),
            ("LIFELINE_DELIVERY_BACKOFF_MS", "1.5"),
            ("LIFELINE_DELIVERY_BACKOFF_MAX_MS", "1h"),
            ("LIFELINE_PURGE_INTERVAL_MS", "x"),
            ("LIFELINE_PURGE_CHUNK", "0"),
            ("LIFELINE_PURGE_ROWS", "0"),
            ("LIFELINE_PURGE_PAUSE_MS", "-10"),
            ("LIFELINE_NOTIFY_TIMEOUT_MS", "0"),
            ("LIFELINE_SMTP_URL", "http://mail.example.com"),
        ] {
            let source = Source::from_pairs([(name, value)]);
            let err = SchedulerSettings::from_source(&source, PUBLIC_URL).unwrap_err();
            assert_eq!(err.name, name, "{name}={value}: {err}");
        }
    }
}
