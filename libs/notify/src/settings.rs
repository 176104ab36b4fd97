//! Notification settings: `LIFELINE_SMTP_URL`, `LIFELINE_SMTP_FROM`,
//! `LIFELINE_ALLOW_PRIVATE_WEBHOOKS`, `LIFELINE_NOTIFY_TIMEOUT_MS` and `LIFELINE_PUBLIC_URL`
//! (README, "Configuration"). They are read here, beside the checks only this crate can make (an
//! SMTP URL lettre accepts, a mailbox it can send from), and checked as a whole, naming the
//! variable at fault.

use std::fmt;
use std::time::Duration;

use lifeline_settings::{SettingError, Source, redacted_url};

pub const DEFAULT_SMTP_FROM: &str = "Lifeline <alerts@lifeline.local>";
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

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
            .field("smtp_url", &self.smtp_url.as_deref().map(redacted_url))
            .field("smtp_from", &self.smtp_from)
            .field("allow_private_targets", &self.allow_private_targets)
            .field("timeout", &self.timeout)
            .field("public_url", &self.public_url)
            .finish()
    }
}

impl NotifySettings {
    /// Reads and validates the settings; `public_url` (`LIFELINE_PUBLIC_URL`, whose default
    /// depends on the ingest address) is read by the caller, once for the whole process.
    pub fn from_source(source: &Source, public_url: &str) -> Result<Self, SettingError> {
        let settings = Self {
            smtp_url: source.optional("LIFELINE_SMTP_URL")?,
            smtp_from: source.string("LIFELINE_SMTP_FROM", DEFAULT_SMTP_FROM)?,
            allow_private_targets: source.flag("LIFELINE_ALLOW_PRIVATE_WEBHOOKS", false)?,
            timeout: source.millis("LIFELINE_NOTIFY_TIMEOUT_MS", DEFAULT_TIMEOUT_MS)?,
            public_url: public_url.to_owned(),
        };
        settings.validate()?;
        if let Some(url) = &settings.smtp_url
            && !source.flag("LIFELINE_SMTP_ALLOW_PLAINTEXT", false)?
        {
            refuse_plaintext_credentials(url)?;
        }
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

/// An SMTP URL with a user name or password must guarantee TLS (`smtps://`, or
/// `?tls=required`): without it the credentials can cross the network in the clear, and
/// `tls=opportunistic` lets anyone on the path strip the upgrade. An operator whose relay sits
/// on a trusted network says so with `LIFELINE_SMTP_ALLOW_PLAINTEXT=1`.
fn refuse_plaintext_credentials(url: &str) -> Result<(), SettingError> {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        // `validate` already named what is wrong with it.
        return Ok(());
    };
    let credentials = !parsed.username().is_empty() || parsed.password().is_some();
    let tls = parsed.scheme() == "smtps"
        || parsed
            .query_pairs()
            .any(|(k, v)| k == "tls" && v == "required");
    if credentials && !tls {
        return Err(SettingError::new(
            "LIFELINE_SMTP_URL",
            "has a user name or password but does not require TLS, so they could cross the \
             network in the clear: use smtps://… or add ?tls=required (or set \
             LIFELINE_SMTP_ALLOW_PLAINTEXT=1 for a relay on a trusted network)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn valid() -> NotifySettings {
        NotifySettings {
            smtp_url: None,
            smtp_from: DEFAULT_SMTP_FROM.to_owned(),
            allow_private_targets: false,
            timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
            public_url: "http://127.0.0.1:8080".to_owned(),
        }
    }

    #[test]
    fn the_defaults_are_valid_and_the_password_never_prints() {
        assert_eq!(valid().validate(), Ok(()));
        let s = NotifySettings {
            smtp_url: Some("smtp://user:pa%40ss@mail.example.com:587?tls=required".into()),
            ..valid()
        };
        assert_eq!(s.validate(), Ok(()));
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
            let s = NotifySettings {
                smtp_url: Some(url.into()),
                ..valid()
            };
            assert_eq!(s.validate(), Ok(()), "{url}");
        }
    }

    #[test]
    fn an_empty_source_gives_the_documented_defaults() {
        let s = NotifySettings::from_source(&Source::empty(), "https://hb.example.com").unwrap();
        assert_eq!(s.smtp_url, None);
        assert_eq!(s.smtp_from, "Lifeline <alerts@lifeline.local>");
        assert!(!s.allow_private_targets);
        assert_eq!(s.timeout, Duration::from_millis(10_000));
        assert_eq!(s.public_url, "https://hb.example.com");
    }

    #[test]
    fn values_are_read() {
        let s = NotifySettings::from_source(
            &Source::from_pairs([
                ("LIFELINE_SMTP_URL", "smtps://mail.example.com"),
                ("LIFELINE_SMTP_FROM", "Ops <ops@example.com>"),
                ("LIFELINE_ALLOW_PRIVATE_WEBHOOKS", "TRUE"),
                ("LIFELINE_NOTIFY_TIMEOUT_MS", "1500"),
            ]),
            "http://127.0.0.1:8080",
        )
        .unwrap();
        assert_eq!(s.smtp_url.as_deref(), Some("smtps://mail.example.com"));
        assert_eq!(s.smtp_from, "Ops <ops@example.com>");
        assert!(s.allow_private_targets);
        assert_eq!(s.timeout, Duration::from_millis(1_500));
    }

    #[test]
    fn a_wrong_value_in_the_source_names_its_variable() {
        for (name, value) in [
            ("LIFELINE_SMTP_URL", "http://mail.example.com"),
            ("LIFELINE_SMTP_FROM", "not an address"),
            ("LIFELINE_ALLOW_PRIVATE_WEBHOOKS", "yes"),
            ("LIFELINE_NOTIFY_TIMEOUT_MS", "ten"),
            ("LIFELINE_NOTIFY_TIMEOUT_MS", "0"),
        ] {
            let err = NotifySettings::from_source(
                &Source::from_pairs([(name, value)]),
                "http://127.0.0.1:8080",
            )
            .unwrap_err();
            assert_eq!(err.name, name, "{name}={value}: {err}");
        }
        let err = NotifySettings::from_source(&Source::empty(), "hb.example.com").unwrap_err();
        assert_eq!(err.name, "LIFELINE_PUBLIC_URL");
    }

    #[test]
    fn wrong_values_name_the_variable() {
        let cases: [(&str, NotifySettings); 8] = [
            (
                "LIFELINE_NOTIFY_TIMEOUT_MS",
                NotifySettings {
                    timeout: Duration::ZERO,
                    ..valid()
                },
            ),
            (
                "LIFELINE_SMTP_URL",
                NotifySettings {
                    smtp_url: Some("http://mail.example.com".into()),
                    ..valid()
                },
            ),
            (
                "LIFELINE_SMTP_URL",
                NotifySettings {
                    smtp_url: Some("smtp://mail.example.com?tls=maybe".into()),
                    ..valid()
                },
            ),
            (
                "LIFELINE_SMTP_URL",
                NotifySettings {
                    smtp_url: Some("not a url".into()),
                    ..valid()
                },
            ),
            (
                "LIFELINE_SMTP_FROM",
                NotifySettings {
                    smtp_from: "not an address".into(),
                    ..valid()
                },
            ),
            (
                "LIFELINE_PUBLIC_URL",
                NotifySettings {
                    public_url: "ftp://example.com".into(),
                    ..valid()
                },
            ),
            (
                "LIFELINE_PUBLIC_URL",
                NotifySettings {
                    public_url: "example.com".into(),
                    ..valid()
                },
            ),
            (
                "LIFELINE_PUBLIC_URL",
                NotifySettings {
                    public_url: "http://".into(),
                    ..valid()
                },
            ),
        ];
        for (name, settings) in cases {
            let err = settings.validate().unwrap_err();
            if name == "LIFELINE_SMTP_URL" {
                assert!(
                    err.to_string().contains("accepted forms: smtps://"),
                    "{err}"
                );
            }
            assert_eq!(err.name, name, "{settings:?}: {err}");
            assert!(err.to_string().starts_with(&format!("setting {name}: ")));
        }
    }

    #[test]
    fn a_host_without_a_scheme_is_told_the_accepted_forms() {
        let err = NotifySettings::from_source(
            &Source::from_pairs([("LIFELINE_SMTP_URL", "mail.example.com")]),
            "http://127.0.0.1:8000",
        )
        .unwrap_err();
        assert_eq!(err.name, "LIFELINE_SMTP_URL");
        let text = err.to_string();
        for part in [
            "\"mail.example.com\" is not an SMTP URL",
            "smtps://HOST[:PORT]",
            "smtp://HOST[:PORT]?tls=required",
        ] {
            assert!(text.contains(part), "{text}");
        }
        // A password in a wrong URL never prints.
        let err = NotifySettings::from_source(
            &Source::from_pairs([(
                "LIFELINE_SMTP_URL",
                "smtp://u:hunter2@mail.example.com?tls=maybe",
            )]),
            "http://127.0.0.1:8000",
        )
        .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn smtp_credentials_need_tls_unless_the_operator_allows_plaintext() {
        let read = |pairs: &[(&str, &str)]| {
            NotifySettings::from_source(
                &Source::from_pairs(pairs.iter().copied()),
                "http://127.0.0.1:8000",
            )
        };
        for url in [
            "smtp://user:secret@mail.example.com:587",
            "smtp://user:secret@mail.example.com:587?tls=opportunistic",
            "smtp://user@mail.example.com:25",
        ] {
            let e = read(&[("LIFELINE_SMTP_URL", url)]).unwrap_err();
            assert_eq!(e.name, "LIFELINE_SMTP_URL", "{url}");
            assert!(e.to_string().contains("TLS"), "{e}");
            assert!(
                !e.to_string().contains("secret"),
                "the password never prints: {e}"
            );
            assert!(
                read(&[
                    ("LIFELINE_SMTP_URL", url),
                    ("LIFELINE_SMTP_ALLOW_PLAINTEXT", "1")
                ])
                .is_ok(),
                "{url} with plaintext allowed"
            );
        }
        for url in [
            "smtps://user:secret@mail.example.com",
            "smtp://user:secret@mail.example.com:587?tls=required",
            "smtp://127.0.0.1:2525",
        ] {
            assert!(read(&[("LIFELINE_SMTP_URL", url)]).is_ok(), "{url}");
        }
    }
}
