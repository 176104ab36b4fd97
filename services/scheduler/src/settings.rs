use std::net::SocketAddr;
use std::time::Duration;

use lifeline_notify::{DEFAULT_SMTP_FROM, DEFAULT_TIMEOUT_MS, NotifySettings};
use lifeline_store::settings::{EnvError, flag, millis, parsed, string};

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
    pub fn from_env(public_url: &str) -> Result<Self, EnvError> {
        let positive = |name: &'static str, default: i64| -> Result<i64, EnvError> {
            let v = parsed(name, default)?;
            if v < 1 {
                return Err(EnvError {
                    name,
                    reason: "must be at least 1".into(),
                });
            }
            Ok(v)
        };
        let smtp_url = string("LIFELINE_SMTP_URL", "")?;
        let notify = NotifySettings {
            smtp_url: (!smtp_url.is_empty()).then_some(smtp_url),
            smtp_from: string("LIFELINE_SMTP_FROM", DEFAULT_SMTP_FROM)?,
            allow_private_targets: flag("LIFELINE_ALLOW_PRIVATE_WEBHOOKS", false)?,
            timeout: millis("LIFELINE_NOTIFY_TIMEOUT_MS", DEFAULT_TIMEOUT_MS)?,
            public_url: public_url.to_owned(),
        };
        notify.validate().map_err(|e| EnvError {
            name: e.name,
            reason: e.reason,
        })?;
        Ok(Self {
            ops_addr: parsed(
                "LIFELINE_SCHEDULER_ADDR",
                SocketAddr::from(([127, 0, 0, 1], 8081)),
            )?,
            batch: positive("LIFELINE_SCHEDULER_BATCH", 500)?,
            max_sleep: millis("LIFELINE_SCHEDULER_POLL_MS", 5_000)?,
            delivery_concurrency: usize::try_from(positive("LIFELINE_DELIVERY_CONCURRENCY", 16)?)
                .unwrap_or(16),
            max_attempts: i32::try_from(positive("LIFELINE_DELIVERY_MAX_ATTEMPTS", 10)?)
                .unwrap_or(10),
            backoff: millis("LIFELINE_DELIVERY_BACKOFF_MS", 5_000)?,
            backoff_max: millis("LIFELINE_DELIVERY_BACKOFF_MAX_MS", 3_600_000)?,
            purge_every: millis("LIFELINE_PURGE_INTERVAL_MS", 900_000)?,
            purge_chunk: positive("LIFELINE_PURGE_CHUNK", 500)?,
            purge_rows: positive("LIFELINE_PURGE_ROWS", 1_000)?,
            purge_pause: millis("LIFELINE_PURGE_PAUSE_MS", 10)?,
            notify,
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
                smtp_from: "Lifeline <alerts@lifeline.local>".into(),
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
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The documented defaults, for every variable this environment leaves unset (tests cannot
    /// unset variables: that is `unsafe`, which the workspace forbids).
    #[test]
    fn unset_variables_take_the_documented_defaults() {
        let unset = |name: &str| std::env::var_os(name).is_none_or(|v| v.is_empty());
        let s = SchedulerSettings::from_env("https://lifeline.example.com").unwrap();
        assert_eq!(s.notify.public_url, "https://lifeline.example.com");
        if unset("LIFELINE_SMTP_URL") {
            assert_eq!(s.notify.smtp_url, None);
        }
        if unset("LIFELINE_SMTP_FROM") {
            assert_eq!(s.notify.smtp_from, "Lifeline <alerts@lifeline.local>");
        }
        if unset("LIFELINE_ALLOW_PRIVATE_WEBHOOKS") {
            assert!(!s.notify.allow_private_targets);
        }
        if unset("LIFELINE_NOTIFY_TIMEOUT_MS") {
            assert_eq!(s.notify.timeout, Duration::from_secs(10));
        }
        if unset("LIFELINE_SCHEDULER_ADDR") {
            assert_eq!(s.ops_addr, SocketAddr::from(([127, 0, 0, 1], 8081)));
        }
        if unset("LIFELINE_DELIVERY_MAX_ATTEMPTS") {
            assert_eq!(s.max_attempts, 10);
        }
    }
}
