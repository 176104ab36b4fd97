//! The analyzer's settings (README, "Configuration").

use std::net::SocketAddr;
use std::time::Duration;

use lifeline_settings::{SettingError, Source};

#[derive(Clone, Debug)]
pub struct AnalyzerSettings {
    /// `LIFELINE_ANALYZER_ADDR`: the ops endpoints (`/healthz`, `/readyz`, `/metrics`) of a
    /// process running the analyzer (default `127.0.0.1:8083`).
    pub ops_addr: SocketAddr,
    /// `LIFELINE_ANALYZER_BATCH`: heartbeats claimed at once (default 8). Training is CPU work
    /// of a few milliseconds each; a small claim spreads the work over replicas.
    pub batch: i32,
    /// `LIFELINE_ANALYZER_POLL_MS`: the longest the loop sleeps when nothing is due (default
    /// 5000), so a heartbeat switched to AI mode starts learning within seconds.
    pub max_sleep: Duration,
    /// `LIFELINE_ANALYZER_LEASE_SECS`: how long a claimed heartbeat stays with the process that
    /// claimed it before another may take it (default 300).
    pub lease: Duration,
}

impl AnalyzerSettings {
    pub fn from_source(source: &Source) -> Result<Self, SettingError> {
        Ok(Self {
            ops_addr: source.parsed(
                "LIFELINE_ANALYZER_ADDR",
                SocketAddr::from(([127, 0, 0, 1], 8083)),
            )?,
            batch: source.at_least("LIFELINE_ANALYZER_BATCH", 8, 1)?,
            max_sleep: source.millis("LIFELINE_ANALYZER_POLL_MS", 5_000)?,
            lease: Duration::from_secs(source.at_least("LIFELINE_ANALYZER_LEASE_SECS", 300, 1)?),
        })
    }

    /// Brisk settings for tests.
    pub fn local() -> Self {
        Self {
            ops_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            batch: 8,
            max_sleep: Duration::from_millis(200),
            lease: Duration::from_secs(60),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn defaults_and_bad_values_name_their_variable() {
        let s = AnalyzerSettings::from_source(&Source::empty()).unwrap();
        assert_eq!(s.ops_addr, SocketAddr::from(([127, 0, 0, 1], 8083)));
        assert_eq!(
            (s.batch, s.max_sleep, s.lease),
            (8, Duration::from_secs(5), Duration::from_secs(300))
        );
        for (name, value) in [
            ("LIFELINE_ANALYZER_ADDR", "nowhere"),
            ("LIFELINE_ANALYZER_BATCH", "0"),
            ("LIFELINE_ANALYZER_POLL_MS", "soon"),
            ("LIFELINE_ANALYZER_LEASE_SECS", "-1"),
        ] {
            let err =
                AnalyzerSettings::from_source(&Source::from_pairs([(name, value)])).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }
}
