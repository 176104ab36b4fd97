//! Where the shared engines are and how long to wait for them: the settings every service role
//! reads the same way, so that ingest and scheduler agree on Redis prefixes and on when
//! Lifeline counts as blind.

use std::path::PathBuf;
use std::time::Duration;

use lifeline_domain::FlapPolicy;
use lifeline_settings::{SettingError, Source, redacted_url};

use crate::pg::PgTarget;
use crate::tls;

/// Where the shared engines are: every service needs these.
#[derive(Clone)]
pub struct StoreSettings {
    /// `DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/lifeline`. libpq's `sslmode`
    /// and `sslrootcert` parameters set up TLS (see [`PgTarget`]).
    pub database_url: String,
    /// `REDIS_URL`, default `redis://127.0.0.1:6379`; `rediss://` for TLS.
    pub redis_url: String,
    /// `LIFELINE_REDIS_CA_FILE`, unset by default: a PEM file of the CA certificates that a
    /// `rediss://` server's certificate must chain to, instead of the system's roots.
    pub redis_ca_file: Option<PathBuf>,
    /// `LIFELINE_REDIS_PREFIX`, default `lifeline:`: prepended to every Redis key and channel,
    /// so several installs (or tests) share a server.
    pub redis_prefix: String,
    /// `LIFELINE_DB_POOL_SIZE`, default 16: upper bound on Postgres connections this process
    /// opens.
    pub pool_size: usize,
    /// `LIFELINE_DB_TIMEOUT_MS`, default 1000: how long a request waits for Postgres (pool
    /// checkout or connect) before giving up.
    pub pg_timeout: Duration,
    /// `LIFELINE_REDIS_TIMEOUT_MS`, default 250: how long a Redis command may take before we
    /// treat Redis as unavailable.
    pub redis_timeout: Duration,
    /// `LIFELINE_BEACON_MS`, default 200: how often an ingest process writes its beacon. The
    /// scheduler decides on a deadline only once a beacon newer than it exists, so this bounds
    /// the extra detection latency; tests shorten it.
    pub beacon_every: Duration,
    /// `LIFELINE_BLIND_AFTER_MS`, default 5000: how long Lifeline may go without proof that it
    /// can receive pings (an ingest beacon) before it counts as an outage of its own: deadlines
    /// then move by the outage's length. Ingest and scheduler read the same value. At least five
    /// beacon periods, so one slow write is not an outage.
    pub blind_after: Duration,
    /// `LIFELINE_FLAP_CHANGES` (default 6; 0 = off), `LIFELINE_FLAP_WINDOW_SECS` (3600),
    /// `LIFELINE_FLAP_STABLE_SECS` (1800): a heartbeat with that many changes into or out of
    /// `down` within the window is flapping until no change has come for the stable period.
    /// Every role that writes status changes reads the same values.
    pub flapping: FlapPolicy,
}

/// The URLs may hold passwords: they print redacted.
impl std::fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSettings")
            .field("database_url", &redacted_url(&self.database_url))
            .field("redis_url", &redacted_url(&self.redis_url))
            .field("redis_ca_file", &self.redis_ca_file)
            .field("redis_prefix", &self.redis_prefix)
            .field("pool_size", &self.pool_size)
            .field("pg_timeout", &self.pg_timeout)
            .field("redis_timeout", &self.redis_timeout)
            .field("beacon_every", &self.beacon_every)
            .field("blind_after", &self.blind_after)
            .field("flapping", &self.flapping)
            .finish()
    }
}

impl StoreSettings {
    pub fn from_source(source: &Source) -> Result<Self, SettingError> {
        let beacon_every = Duration::from_millis(source.at_least("LIFELINE_BEACON_MS", 200, 1)?);
        let blind_after = source.millis("LIFELINE_BLIND_AFTER_MS", 5_000)?;
        if blind_after < beacon_every * 5 {
            return Err(SettingError::new(
                "LIFELINE_BLIND_AFTER_MS",
                format!(
                    "must be at least {} ms (five ingest beacons)",
                    (beacon_every * 5).as_millis()
                ),
            ));
        }
        let database_url = source.url(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/lifeline",
            &["postgres", "postgresql"],
        )?;
        // Read whole now (TLS parameters, certificate files), so that a mistake stops start-up.
        PgTarget::parse(&database_url).map_err(|e| SettingError::new("DATABASE_URL", e))?;
        let redis_url = source.url(
            "REDIS_URL",
            "redis://127.0.0.1:6379",
            &["redis", "rediss", "unix"],
        )?;
        let redis_ca_file = source
            .optional("LIFELINE_REDIS_CA_FILE")?
            .map(PathBuf::from);
        if let Some(path) = &redis_ca_file {
            if !redis_url.starts_with("rediss://") {
                return Err(SettingError::new(
                    "LIFELINE_REDIS_CA_FILE",
                    "is set, but REDIS_URL is not a rediss:// URL",
                ));
            }
            tls::roots_from_file(path)
                .map_err(|e| SettingError::new("LIFELINE_REDIS_CA_FILE", e))?;
        }
        Ok(Self {
            database_url,
            redis_url,
            redis_ca_file,
            redis_prefix: source.string("LIFELINE_REDIS_PREFIX", "lifeline:")?,
            pool_size: source.at_least("LIFELINE_DB_POOL_SIZE", 16, 1)?,
            pg_timeout: source.millis("LIFELINE_DB_TIMEOUT_MS", 1_000)?,
            redis_timeout: source.millis("LIFELINE_REDIS_TIMEOUT_MS", 250)?,
            beacon_every,
            blind_after,
            flapping: FlapPolicy {
                changes: source.parsed("LIFELINE_FLAP_CHANGES", 6)?,
                window: Duration::from_secs(source.at_least(
                    "LIFELINE_FLAP_WINDOW_SECS",
                    3600,
                    1,
                )?),
                stable: Duration::from_secs(source.at_least(
                    "LIFELINE_FLAP_STABLE_SECS",
                    1800,
                    1,
                )?),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn an_empty_source_gives_the_documented_defaults() {
        let s = StoreSettings::from_source(&Source::empty()).unwrap();
        assert_eq!(
            s.database_url,
            "postgres://postgres@127.0.0.1:5432/lifeline"
        );
        assert_eq!(s.redis_url, "redis://127.0.0.1:6379");
        assert_eq!(s.redis_prefix, "lifeline:");
        assert_eq!(s.pool_size, 16);
        assert_eq!(s.pg_timeout, Duration::from_millis(1_000));
        assert_eq!(s.redis_timeout, Duration::from_millis(250));
        assert_eq!(s.beacon_every, Duration::from_millis(200));
        assert_eq!(s.blind_after, Duration::from_millis(5_000));
        assert_eq!(s.flapping, FlapPolicy::default());
    }

    #[test]
    fn values_are_read() {
        let s = StoreSettings::from_source(&Source::from_pairs([
            ("DATABASE_URL", "postgresql://u@db/x"),
            ("REDIS_URL", "unix:///run/redis.sock"),
            ("LIFELINE_REDIS_PREFIX", "staging:"),
            ("LIFELINE_DB_POOL_SIZE", "4"),
            ("LIFELINE_DB_TIMEOUT_MS", "300"),
            ("LIFELINE_REDIS_TIMEOUT_MS", "50"),
            ("LIFELINE_BEACON_MS", "20"),
            ("LIFELINE_BLIND_AFTER_MS", "100"),
            ("LIFELINE_FLAP_CHANGES", "4"),
            ("LIFELINE_FLAP_WINDOW_SECS", "60"),
            ("LIFELINE_FLAP_STABLE_SECS", "30"),
        ]))
        .unwrap();
        assert_eq!(s.database_url, "postgresql://u@db/x");
        assert_eq!(s.redis_url, "unix:///run/redis.sock");
        assert_eq!(s.redis_prefix, "staging:");
        assert_eq!(s.pool_size, 4);
        assert_eq!(s.pg_timeout, Duration::from_millis(300));
        assert_eq!(s.redis_timeout, Duration::from_millis(50));
        assert_eq!(s.beacon_every, Duration::from_millis(20));
        assert_eq!(s.blind_after, Duration::from_millis(100));
        assert_eq!(
            s.flapping,
            FlapPolicy {
                changes: 4,
                window: Duration::from_secs(60),
                stable: Duration::from_secs(30),
            }
        );
    }

    #[test]
    fn a_wrong_value_names_its_variable() {
        for (name, value) in [
            ("DATABASE_URL", "mysql://x"),
            ("DATABASE_URL", "postgres://h/db?sslmode=sometimes"),
            (
                "DATABASE_URL",
                "postgres://h/db?sslmode=verify-full&sslrootcert=/no/such/ca.pem",
            ),
            (
                "DATABASE_URL",
                "postgres://h/db?sslmode=require&sslrootcert=system",
            ),
            ("REDIS_URL", "http://nope"),
            ("LIFELINE_DB_POOL_SIZE", "0"),
            ("LIFELINE_DB_POOL_SIZE", "many"),
            ("LIFELINE_FLAP_CHANGES", "-1"),
            ("LIFELINE_FLAP_WINDOW_SECS", "0"),
            ("LIFELINE_FLAP_STABLE_SECS", "soon"),
            ("LIFELINE_DB_TIMEOUT_MS", "1s"),
            ("LIFELINE_REDIS_TIMEOUT_MS", "-1"),
            ("LIFELINE_BEACON_MS", "0"),
            ("LIFELINE_BLIND_AFTER_MS", "999"),
        ] {
            let err = StoreSettings::from_source(&Source::from_pairs([(name, value)])).unwrap_err();
            assert_eq!(err.name, name, "{name}={value}: {err}");
        }
    }

    #[test]
    fn the_redis_ca_file_needs_rediss_and_a_readable_file() {
        let with = |url: &str| {
            StoreSettings::from_source(&Source::from_pairs([
                ("REDIS_URL", url),
                ("LIFELINE_REDIS_CA_FILE", "/no/such/ca.pem"),
            ]))
            .unwrap_err()
            .to_string()
        };
        assert_eq!(
            with("redis://127.0.0.1:6379"),
            "setting LIFELINE_REDIS_CA_FILE: is set, but REDIS_URL is not a rediss:// URL"
        );
        assert!(
            with("rediss://127.0.0.1:6379")
                .starts_with("setting LIFELINE_REDIS_CA_FILE: cannot read /no/such/ca.pem"),
            "{}",
            with("rediss://127.0.0.1:6379")
        );
    }

    #[test]
    fn blindness_needs_five_beacon_periods() {
        let with = |beacon: &str, blind: &str| {
            StoreSettings::from_source(&Source::from_pairs([
                ("LIFELINE_BEACON_MS", beacon),
                ("LIFELINE_BLIND_AFTER_MS", blind),
            ]))
        };
        assert!(with("100", "500").is_ok());
        let err = with("100", "499").unwrap_err();
        assert_eq!(
            err.to_string(),
            "setting LIFELINE_BLIND_AFTER_MS: must be at least 500 ms (five ingest beacons)"
        );
    }
}
