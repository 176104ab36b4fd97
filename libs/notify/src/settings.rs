//! Notification settings, read from the environment and validated as a whole at start-up.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `LIFELINE_SMTP_URL` | unset (email channels fail with a permanent error) | `smtp://user:pass@host:587?tls=required`, `smtps://user:pass@host` or `smtp://host:25` (plain, local relays only) |
//! | `LIFELINE_SMTP_FROM` | `Lifeline <alerts@lifeline.local>` | the `From:` of alert emails |
//! | `LIFELINE_ALLOW_PRIVATE_WEBHOOKS` | `0` | `1`/`true` lets webhook and Slack channels reach loopback and private addresses (self-hosted installs whose receivers are internal) |
//! | `LIFELINE_NOTIFY_TIMEOUT_MS` | `10000` | upper bound on one send: an HTTP request, or an SMTP transaction |
//! | `LIFELINE_PUBLIC_URL` | `http://127.0.0.1:8080` | base of the links in messages |

use std::env::VarError;
use std::fmt;
use std::time::Duration;

/// A setting that is present but wrong; `name` is the environment variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {name}: {reason}")]
pub struct SettingError {
    pub name: &'static str,
    pub reason: String,
}

impl SettingError {
    pub(crate) fn new(name: &'static str, reason: impl Into<String>) -> Self {
        Self {
            name,
            reason: reason.into(),
        }
    }
}

pub const DEFAULT_SMTP_FROM: &str = "Lifeline <alerts@lifeline.local>";
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

#[derive(Clone)]
pub struct NotifySettings {
    /// `None`: email is not configured, and email sends fail with a permanent error.
    pub smtp_url: Option<String>,
    /// The `From:` address, e.g. `Lifeline <alerts@lifeline.local>`.
    pub smtp_from: String,
    /// Lets webhook and Slack channels reach loopback, private and other non-public addresses.
    pub allow_private_targets: bool,
    /// Upper bound on one send (HTTP request or SMTP transaction).
    pub timeout: Duration,
    /// Base for links in messages, e.g. `http://127.0.0.1:8080`.
    pub public_url: String,
}

/// The SMTP URL may hold a password: it never prints.
impl fmt::Debug for NotifySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotifySettings")
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("smtp_from", &self.smtp_from)
            .field("allow_private_targets", &self.allow_private_targets)
            .field("timeout", &self.timeout)
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// `smtp://user:secret@host` → `smtp://user:***@host`; anything unparsable → `***`.
fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                // Cannot fail: a URL that has a password can have it replaced.
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "***".to_owned(),
    }
}

impl NotifySettings {
    /// Reads the settings from the process environment (see the module doc for the variables).
    pub fn from_env() -> Result<Self, SettingError> {
        Self::from_lookup(std::env::var)
    }

    /// Like [`from_env`](Self::from_env), with `lookup` in place of `std::env::var` (for tests).
    pub fn from_lookup(
        lookup: impl Fn(&'static str) -> Result<String, VarError>,
    ) -> Result<Self, SettingError> {
        let read = |name: &'static str| -> Result<Option<String>, SettingError> {
            match lookup(name) {
                Ok(v) if !v.trim().is_empty() => Ok(Some(v.trim().to_owned())),
                Ok(_) | Err(VarError::NotPresent) => Ok(None),
                Err(VarError::NotUnicode(_)) => Err(SettingError::new(name, "is not valid UTF-8")),
            }
        };

        let allow_private_targets = match read("LIFELINE_ALLOW_PRIVATE_WEBHOOKS")? {
            None => false,
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "1" | "true" => true,
                "0" | "false" => false,
                _ => {
                    return Err(SettingError::new(
                        "LIFELINE_ALLOW_PRIVATE_WEBHOOKS",
                        format!("{v:?} is not 1, true, 0 or false"),
                    ));
                }
            },
        };
        let timeout_ms = match read("LIFELINE_NOTIFY_TIMEOUT_MS")? {
            None => DEFAULT_TIMEOUT_MS,
            Some(v) => v.parse::<u64>().map_err(|e| {
                SettingError::new(
                    "LIFELINE_NOTIFY_TIMEOUT_MS",
                    format!("cannot parse {v:?}: {e}"),
                )
            })?,
        };
        let settings = Self {
            smtp_url: read("LIFELINE_SMTP_URL")?,
            smtp_from: read("LIFELINE_SMTP_FROM")?.unwrap_or_else(|| DEFAULT_SMTP_FROM.to_owned()),
            allow_private_targets,
            timeout: Duration::from_millis(timeout_ms),
            public_url: read("LIFELINE_PUBLIC_URL")?
                .unwrap_or_else(|| DEFAULT_PUBLIC_URL.to_owned()),
        };
        settings.validate()?;
        Ok(settings)
    }

    /// Checks the settings as a whole; [`Notifier::new`](crate::Notifier::new) calls it too.
    pub fn validate(&self) -> Result<(), SettingError> {
        if let Some(url) = &self.smtp_url {
            crate::email::transport(url, self.timeout)?;
        }
        crate::email::from_mailbox(&self.smtp_from)?;
        if self.timeout.is_zero() {
            return Err(SettingError::new(
                "LIFELINE_NOTIFY_TIMEOUT_MS",
                "must be at least 1",
            ));
        }
        let public = reqwest::Url::parse(&self.public_url).map_err(|e| {
            SettingError::new(
                "LIFELINE_PUBLIC_URL",
                format!("{:?} is not a URL: {e}", self.public_url),
            )
        })?;
        if !matches!(public.scheme(), "http" | "https") || public.host().is_none() {
            return Err(SettingError::new(
                "LIFELINE_PUBLIC_URL",
                format!("{:?} is not an http or https URL", self.public_url),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&'static str, &str)]) -> Result<NotifySettings, SettingError> {
        let map: HashMap<&'static str, String> =
            vars.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        NotifySettings::from_lookup(|name| map.get(name).cloned().ok_or(VarError::NotPresent))
    }

    #[test]
    fn defaults() {
        let s = from(&[]).unwrap();
        assert_eq!(s.smtp_url, None);
        assert_eq!(s.smtp_from, "Lifeline <alerts@lifeline.local>");
        assert!(!s.allow_private_targets);
        assert_eq!(s.timeout, Duration::from_secs(10));
        assert_eq!(s.public_url, "http://127.0.0.1:8080");
    }

    #[test]
    fn all_set() {
        let s = from(&[
            (
                "LIFELINE_SMTP_URL",
                "smtp://user:pa%40ss@mail.example.com:587?tls=required",
            ),
            ("LIFELINE_SMTP_FROM", "alerts@example.com"),
            ("LIFELINE_ALLOW_PRIVATE_WEBHOOKS", "true"),
            ("LIFELINE_NOTIFY_TIMEOUT_MS", "2500"),
            ("LIFELINE_PUBLIC_URL", "https://lifeline.example.com/"),
        ])
        .unwrap();
        assert!(s.smtp_url.is_some());
        assert!(s.allow_private_targets);
        assert_eq!(s.timeout, Duration::from_millis(2500));
        let debug = format!("{s:?}");
        assert!(!debug.contains("pa%40ss"), "{debug}");
        assert!(debug.contains("***"), "{debug}");
    }

    #[test]
    fn smtp_url_forms_accepted() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtps://mail.example.com",
            "smtp://u:p@mail.example.com:587?tls=required",
            "smtp://mail.example.com?tls=opportunistic",
        ] {
            assert!(from(&[("LIFELINE_SMTP_URL", url)]).is_ok(), "{url}");
        }
    }

    #[test]
    fn allow_private_values() {
        for (v, want) in [
            ("1", true),
            ("TRUE", true),
            ("0", false),
            ("false", false),
            ("", false),
        ] {
            let s = from(&[("LIFELINE_ALLOW_PRIVATE_WEBHOOKS", v)]).unwrap();
            assert_eq!(s.allow_private_targets, want, "{v}");
        }
    }

    #[test]
    fn wrong_values_name_the_variable() {
        for (name, value) in [
            ("LIFELINE_ALLOW_PRIVATE_WEBHOOKS", "yes"),
            ("LIFELINE_NOTIFY_TIMEOUT_MS", "ten"),
            ("LIFELINE_NOTIFY_TIMEOUT_MS", "0"),
            ("LIFELINE_SMTP_URL", "http://mail.example.com"),
            ("LIFELINE_SMTP_URL", "smtp://mail.example.com?tls=maybe"),
            ("LIFELINE_SMTP_URL", "not a url"),
            ("LIFELINE_SMTP_FROM", "not an address"),
            ("LIFELINE_PUBLIC_URL", "ftp://example.com"),
            ("LIFELINE_PUBLIC_URL", "example.com"),
        ] {
            let err = from(&[(name, value)]).unwrap_err();
            assert_eq!(err.name, name, "{value}: {err}");
            assert!(err.to_string().starts_with(&format!("setting {name}: ")));
        }
    }
}
