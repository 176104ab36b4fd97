//! Reading settings from the environment. Every setting has a documented default (README,
//! "Configuration"); a value that is present but wrong stops start-up with an error naming it.

use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("setting {name}: {reason}")]
pub struct EnvError {
    pub name: &'static str,
    pub reason: String,
}

/// Reads `name`, or `default` when unset or empty.
pub fn string(name: &'static str, default: &str) -> Result<String, EnvError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        Ok(_) | Err(std::env::VarError::NotPresent) => Ok(default.to_owned()),
        Err(std::env::VarError::NotUnicode(_)) => Err(EnvError {
            name,
            reason: "is not valid UTF-8".into(),
        }),
    }
}

/// Reads and parses `name`, or returns `default` when unset.
pub fn parsed<T: FromStr>(name: &'static str, default: T) -> Result<T, EnvError>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map_err(|e: T::Err| EnvError {
            name,
            reason: format!("cannot parse {v:?}: {e}"),
        }),
        _ => Ok(default),
    }
}

/// Reads an on/off switch: `1`/`true` or `0`/`false` (any case), `default` when unset.
pub fn flag(name: &'static str, default: bool) -> Result<bool, EnvError> {
    let value = string(name, "")?;
    if value.is_empty() {
        return Ok(default);
    }
    parse_flag(&value).ok_or_else(|| EnvError {
        name,
        reason: format!("{value:?} is not 1, true, 0 or false"),
    })
}

fn parse_flag(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

/// A configured duration as a span to add to instants, capped at a century so that date
/// arithmetic with an absurd setting saturates instead of overflowing.
pub fn span(d: Duration) -> chrono::Duration {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 86_400);
    chrono::Duration::from_std(d.min(CENTURY)).unwrap_or(chrono::Duration::zero())
}

/// Reads a duration given in milliseconds.
pub fn millis(name: &'static str, default_ms: u64) -> Result<Duration, EnvError> {
    parsed(name, default_ms).map(Duration::from_millis)
}

/// Checks that `url` uses one of `schemes`.
pub fn url_with_scheme(
    name: &'static str,
    url: String,
    schemes: &[&str],
) -> Result<String, EnvError> {
    let ok = schemes
        .iter()
        .any(|s| url.starts_with(&format!("{s}://")) && url.len() > s.len() + 3);
    if ok {
        Ok(url)
    } else {
        Err(EnvError {
            name,
            reason: format!("{url:?} is not a {} URL", schemes.join(" or ")),
        })
    }
}

/// Where the shared engines are: every service needs these.
#[derive(Clone, Debug)]
pub struct StoreSettings {
    pub database_url: String,
    pub redis_url: String,
    /// Prepended to every Redis key and channel, so several installs (or tests) share a server.
    pub redis_prefix: String,
    /// Upper bound on Postgres connections this process opens.
    pub pool_size: usize,
    /// How long a request waits for Postgres (pool checkout or connect) before giving up.
    pub pg_timeout: Duration,
    /// How long a Redis command may take before we treat Redis as unavailable.
    pub redis_timeout: Duration,
    /// How long Lifeline may go without proof that it can receive pings (an ingest beacon)
    /// before it counts as an outage of its own: deadlines then move by the outage's length.
    /// Ingest and scheduler read the same value.
    pub blind_after: Duration,
}

impl StoreSettings {
    pub fn from_env() -> Result<Self, EnvError> {
        let database_url = url_with_scheme(
            "DATABASE_URL",
            string(
                "DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432/lifeline",
            )?,
            &["postgres", "postgresql"],
        )?;
        let redis_url = url_with_scheme(
            "REDIS_URL",
            string("REDIS_URL", "redis://127.0.0.1:6379")?,
            &["redis", "rediss", "unix"],
        )?;
        let redis_prefix = string("LIFELINE_REDIS_PREFIX", "lifeline:")?;
        let pool_size = parsed("LIFELINE_DB_POOL_SIZE", 16usize)?;
        if pool_size == 0 {
            return Err(EnvError {
                name: "LIFELINE_DB_POOL_SIZE",
                reason: "must be at least 1".into(),
            });
        }
        Ok(Self {
            database_url,
            redis_url,
            redis_prefix,
            pool_size,
            pg_timeout: millis("LIFELINE_DB_TIMEOUT_MS", 1_000)?,
            redis_timeout: millis("LIFELINE_REDIS_TIMEOUT_MS", 250)?,
            blind_after: blind_after()?,
        })
    }
}

fn blind_after() -> Result<Duration, EnvError> {
    let blind_after = millis("LIFELINE_BLIND_AFTER_MS", 5_000)?;
    if blind_after < crate::coverage::BEAT_EVERY * 5 {
        return Err(EnvError {
            name: "LIFELINE_BLIND_AFTER_MS",
            reason: format!(
                "must be at least {} ms (five ingest beacons)",
                (crate::coverage::BEAT_EVERY * 5).as_millis()
            ),
        });
    }
    Ok(blind_after)
}

#[cfg(test)]
mod tests {
    use super::parse_flag;

    #[test]
    fn flags_are_one_true_zero_or_false() {
        for (value, want) in [
            ("1", Some(true)),
            ("TRUE", Some(true)),
            ("true", Some(true)),
            ("0", Some(false)),
            ("False", Some(false)),
            ("yes", None),
            ("2", None),
        ] {
            assert_eq!(parse_flag(value), want, "{value}");
        }
    }
}
