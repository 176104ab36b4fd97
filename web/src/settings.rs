//! The dashboard's settings (README, "Configuration").

use std::net::SocketAddr;
use std::time::Duration;

use lifeline_settings::{SettingError, Source};

/// Settings of the web service. Environment variables and defaults are documented in the README.
#[derive(Clone)]
pub struct WebSettings {
    /// `LIFELINE_WEB_ADDR`, default `127.0.0.1:8000`.
    pub addr: SocketAddr,
    /// `LIFELINE_PUBLIC_URL`: the dashboard as users reach it, the base of every link in pages,
    /// emails and alerts (default `http://<LIFELINE_WEB_ADDR>`). An https URL makes cookies
    /// `Secure`.
    pub public_url: String,
    /// `LIFELINE_PING_URL`: the ping API as jobs reach it, the base of ping URLs (default
    /// `http://<LIFELINE_INGEST_ADDR>`).
    pub ping_url: String,
    /// `LIFELINE_SESSION_SECRET`: the key that signs sessions and CSRF tokens, at least 32
    /// characters. Unset: one is generated on first start and kept in Postgres, shared by every
    /// web process of the installation.
    pub session_secret: Option<String>,
    /// `LIFELINE_SESSION_HOURS`: how long a login lasts (default 336, two weeks).
    pub session_ttl: Duration,
    /// `LIFELINE_LOGIN_MAX_FAILURES`: failed logins allowed per account in
    /// `LIFELINE_LOGIN_WINDOW_SECS` (default 5 in 900); an address gets four times as many.
    pub login_max_failures: u32,
    pub login_window: Duration,
    /// `LIFELINE_WEB_WORKERS`: HTTP worker threads (default: one per core).
    pub workers: Option<usize>,
    /// `LIFELINE_API_RATE_LIMIT`: management API calls allowed per key per minute (default
    /// 600); more are answered 429 with `Retry-After`.
    pub api_rate_limit: u32,
    /// `LIFELINE_BILLING_URL`: where the dashboard reaches the billing service's internal API
    /// (default `http://<LIFELINE_BILLING_ADDR>`).
    pub billing_url: String,
}

impl std::fmt::Debug for WebSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSettings")
            .field("addr", &self.addr)
            .field("public_url", &self.public_url)
            .field("ping_url", &self.ping_url)
            .field(
                "session_secret",
                &self.session_secret.as_ref().map(|_| "***"),
            )
            .field("session_ttl", &self.session_ttl)
            .field("login_max_failures", &self.login_max_failures)
            .field("login_window", &self.login_window)
            .field("workers", &self.workers)
            .field("api_rate_limit", &self.api_rate_limit)
            .field("billing_url", &self.billing_url)
            .finish()
    }
}

/// The shortest session secret accepted.
pub const MIN_SECRET_LEN: usize = 32;

impl WebSettings {
    /// `ingest_addr` gives the ping URL's default, `billing_addr` the billing service's.
    pub fn from_source(
        source: &Source,
        ingest_addr: SocketAddr,
        billing_addr: SocketAddr,
    ) -> Result<Self, SettingError> {
        let addr = source.parsed(
            "LIFELINE_WEB_ADDR",
            SocketAddr::from(([127, 0, 0, 1], 8000)),
        )?;
        let base = |name, default: String| {
            source
                .url(name, &default, &["http", "https"])
                .map(|u| u.trim_end_matches('/').to_owned())
        };
        let session_secret = source.optional("LIFELINE_SESSION_SECRET")?;
        if let Some(secret) = &session_secret
            && secret.len() < MIN_SECRET_LEN
        {
            return Err(SettingError::new(
                "LIFELINE_SESSION_SECRET",
                format!(
                    "must have at least {MIN_SECRET_LEN} characters (e.g. `openssl rand -hex 32`)"
                ),
            ));
        }
        Ok(Self {
            addr,
            public_url: base("LIFELINE_PUBLIC_URL", format!("http://{addr}"))?,
            ping_url: base("LIFELINE_PING_URL", format!("http://{ingest_addr}"))?,
            session_secret,
            session_ttl: Duration::from_secs(
                3600 * source.at_least("LIFELINE_SESSION_HOURS", 336u64, 1)?,
            ),
            login_max_failures: source.at_least("LIFELINE_LOGIN_MAX_FAILURES", 5, 1)?,
            login_window: Duration::from_secs(source.at_least(
                "LIFELINE_LOGIN_WINDOW_SECS",
                900,
                1,
            )?),
            workers: Some(source.parsed("LIFELINE_WEB_WORKERS", 0)?).filter(|&n| n > 0),
            api_rate_limit: source.at_least("LIFELINE_API_RATE_LIMIT", 600, 1)?,
            billing_url: base("LIFELINE_BILLING_URL", format!("http://{billing_addr}"))?,
        })
    }

    /// Cookies get `Secure` when users reach the dashboard over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const INGEST: SocketAddr =
        SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);
    const BILLING: SocketAddr =
        SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8082);

    #[test]
    fn an_empty_source_gives_the_documented_defaults() {
        let s = WebSettings::from_source(&Source::empty(), INGEST, BILLING).unwrap();
        assert_eq!(s.addr, SocketAddr::from(([127, 0, 0, 1], 8000)));
        assert_eq!(s.public_url, "http://127.0.0.1:8000");
        assert_eq!(s.ping_url, "http://127.0.0.1:8080");
        assert_eq!(s.session_secret, None);
        assert_eq!(s.session_ttl, Duration::from_secs(336 * 3600));
        assert_eq!(s.login_max_failures, 5);
        assert_eq!(s.login_window, Duration::from_secs(900));
        assert_eq!(s.workers, None);
        assert_eq!(s.api_rate_limit, 600);
        assert_eq!(s.billing_url, "http://127.0.0.1:8082");
        assert!(!s.secure_cookies());
    }

    #[test]
    fn the_two_public_bases_are_separate() {
        let s = WebSettings::from_source(
            &Source::from_pairs([
                ("LIFELINE_WEB_ADDR", "127.0.0.1:9001"),
                ("LIFELINE_PUBLIC_URL", "https://lifeline.example.com/"),
                ("LIFELINE_PING_URL", "https://ping.example.com"),
            ]),
            INGEST,
            BILLING,
        )
        .unwrap();
        assert_eq!(s.public_url, "https://lifeline.example.com");
        assert_eq!(s.ping_url, "https://ping.example.com");
        assert!(s.secure_cookies());
        let s = WebSettings::from_source(
            &Source::from_pairs([("LIFELINE_WEB_ADDR", "127.0.0.1:9001")]),
            INGEST,
            BILLING,
        )
        .unwrap();
        assert_eq!(s.public_url, "http://127.0.0.1:9001");
    }

    #[test]
    fn the_api_rate_limit_is_configurable() {
        let s = WebSettings::from_source(
            &Source::from_pairs([("LIFELINE_API_RATE_LIMIT", "5")]),
            INGEST,
            BILLING,
        )
        .unwrap();
        assert_eq!(s.api_rate_limit, 5);
    }

    #[test]
    fn wrong_values_name_their_variable() {
        for (name, value) in [
            ("LIFELINE_WEB_ADDR", "localhost"),
            ("LIFELINE_PUBLIC_URL", "lifeline.example.com"),
            ("LIFELINE_PING_URL", "ftp://ping.example.com"),
            ("LIFELINE_SESSION_SECRET", "short"),
            ("LIFELINE_SESSION_HOURS", "0"),
            ("LIFELINE_LOGIN_MAX_FAILURES", "none"),
            ("LIFELINE_API_RATE_LIMIT", "0"),
            ("LIFELINE_API_RATE_LIMIT", "lots"),
        ] {
            let err =
                WebSettings::from_source(&Source::from_pairs([(name, value)]), INGEST, BILLING)
                    .unwrap_err();
            assert!(err.to_string().contains(name), "{name}: {err}");
        }
        let long = "x".repeat(40);
        let err = WebSettings::from_source(
            &Source::from_pairs([("LIFELINE_SESSION_SECRET", "short")]),
            INGEST,
            BILLING,
        )
        .unwrap_err();
        assert!(
            !err.to_string().contains("short\""),
            "the secret is not echoed: {err}"
        );
        assert!(
            WebSettings::from_source(
                &Source::from_pairs([("LIFELINE_SESSION_SECRET", long.as_str())]),
                INGEST,
                BILLING
            )
            .is_ok()
        );
    }
}
