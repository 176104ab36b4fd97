//! Structured logs on stderr, set up the same way by every service role.

use lifeline_settings::{SettingError, Source};
use tracing_subscriber::EnvFilter;

/// The words `LIFELINE_LOG_FORMAT` accepts, as the error lists them.
const FORMATS: &str = "`text` or `json`";

/// `LIFELINE_LOG` (a tracing `EnvFilter`; default `info`, or `warn` for commands whose output
/// is for scripts) and `LIFELINE_LOG_FORMAT` (`text`, the default, or `json` for one JSON
/// object per line).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogSettings {
    pub filter: Option<String>,
    pub json: bool,
}

impl LogSettings {
    /// Reads and checks both settings: a filter `EnvFilter` cannot parse, or a format other than
    /// `text` and `json`, is an error naming the variable. The process's settings check them
    /// with everything else, so a typo stops start-up instead of silently logging otherwise.
    pub fn parse(source: &Source) -> Result<Self, SettingError> {
        let filter = source.optional("LIFELINE_LOG")?;
        if let Some(filter) = &filter {
            EnvFilter::try_new(filter).map_err(|e| {
                SettingError::new(
                    "LIFELINE_LOG",
                    format!(
                        "{filter:?} is not a log filter ({e}); use a level (error, warn, \
                             info, debug, trace) or comma-separated target=level directives, \
                             e.g. info,lifeline_scheduler=debug"
                    ),
                )
            })?;
        }
        let json = match source.optional("LIFELINE_LOG_FORMAT")? {
            None => false,
            Some(format) if format.eq_ignore_ascii_case("json") => true,
            Some(format) if format.eq_ignore_ascii_case("text") => false,
            Some(format) => {
                return Err(SettingError::new(
                    "LIFELINE_LOG_FORMAT",
                    format!("{format:?} is not a log format; use {FORMATS}"),
                ));
            }
        };
        Ok(Self { filter, json })
    }

    /// For setting logs up before the other settings are checked, so that their errors can be
    /// logged: a wrong value falls back to its default here, and [`Self::parse`] (run with the
    /// process's other settings) reports it and stops start-up.
    pub fn from_source(source: &Source) -> Self {
        Self::parse(source).unwrap_or_else(|_| Self {
            filter: None,
            json: source
                .optional("LIFELINE_LOG_FORMAT")
                .ok()
                .flatten()
                .is_some_and(|v| v.eq_ignore_ascii_case("json")),
        })
    }
}

/// Installs the global subscriber; `quiet` lowers the default level to `warn`. A second call
/// (tests start many services in one process) changes nothing.
pub fn init(settings: &LogSettings, quiet: bool) {
    let default = if quiet { "warn" } else { "info" };
    // [`LogSettings::parse`] has checked the filter; one that fails here was never checked, and
    // the default is the safe reading of it.
    let filter = settings
        .filter
        .as_deref()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if settings.json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn defaults_are_plain_text_at_the_default_level() {
        assert_eq!(
            LogSettings::parse(&Source::empty()).unwrap(),
            LogSettings::default()
        );
        assert_eq!(
            LogSettings::from_source(&Source::empty()),
            LogSettings::default()
        );
    }

    #[test]
    fn values_are_read() {
        let s = LogSettings::parse(&Source::from_pairs([
            ("LIFELINE_LOG", "lifeline=debug,warn"),
            ("LIFELINE_LOG_FORMAT", "JSON"),
        ]))
        .unwrap();
        assert_eq!(s.filter.as_deref(), Some("lifeline=debug,warn"));
        assert!(s.json);
        let text = LogSettings::parse(&Source::from_pairs([("LIFELINE_LOG_FORMAT", "text")]));
        assert!(!text.unwrap().json);
    }

    #[test]
    fn wrong_values_name_the_variable_and_what_is_accepted() {
        for (name, value, accepted) in [
            ("LIFELINE_LOG_FORMAT", "xml", "`text` or `json`"),
            ("LIFELINE_LOG_FORMAT", "plain", "`text` or `json`"),
            ("LIFELINE_LOG", "bogus==", "target=level"),
            ("LIFELINE_LOG", "lifeline=loud", "target=level"),
        ] {
            let err = LogSettings::parse(&Source::from_pairs([(name, value)])).unwrap_err();
            assert_eq!(err.name, name, "{value}: {err}");
            let text = err.to_string();
            assert!(text.contains(value), "{text}");
            assert!(text.contains(accepted), "{text}");
        }
        // Logs can still be set up, to report the error.
        let fallback = LogSettings::from_source(&Source::from_pairs([
            ("LIFELINE_LOG", "bogus=="),
            ("LIFELINE_LOG_FORMAT", "json"),
        ]));
        assert_eq!(fallback.filter, None);
        assert!(fallback.json);
    }
}
