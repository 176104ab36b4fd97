//! Structured logs on stderr, set up the same way by every service role.

use lifeline_settings::Source;
use tracing_subscriber::EnvFilter;

/// `LIFELINE_LOG` (a tracing `EnvFilter`; default `info`, or `warn` for commands whose output
/// is for scripts) and `LIFELINE_LOG_FORMAT` (`json` for one JSON object per line, anything
/// else plain text).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogSettings {
    pub filter: Option<String>,
    pub json: bool,
}

impl LogSettings {
    /// Never fails: logs are set up before the other settings are checked, to report on them,
    /// so an unreadable value falls back to its default.
    pub fn from_source(source: &Source) -> Self {
        Self {
            filter: source.optional("LIFELINE_LOG").ok().flatten(),
            json: source
                .optional("LIFELINE_LOG_FORMAT")
                .ok()
                .flatten()
                .is_some_and(|v| v.eq_ignore_ascii_case("json")),
        }
    }
}

/// Installs the global subscriber; `quiet` lowers the default level to `warn`. A second call
/// (tests start many services in one process) changes nothing.
pub fn init(settings: &LogSettings, quiet: bool) {
    let default = if quiet { "warn" } else { "info" };
    let (filter, rejected) = match settings.filter.as_deref().map(EnvFilter::try_new) {
        Some(Ok(filter)) => (filter, None),
        Some(Err(e)) => (EnvFilter::new(default), Some(e)),
        None => (EnvFilter::new(default), None),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if settings.json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    if let Some(error) = rejected {
        tracing::warn!(%error, "LIFELINE_LOG is not a valid filter; using {default}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_plain_text_at_the_default_level() {
        assert_eq!(
            LogSettings::from_source(&Source::empty()),
            LogSettings::default()
        );
    }

    #[test]
    fn values_are_read() {
        let s = LogSettings::from_source(&Source::from_pairs([
            ("LIFELINE_LOG", "lifeline=debug"),
            ("LIFELINE_LOG_FORMAT", "JSON"),
        ]));
        assert_eq!(s.filter.as_deref(), Some("lifeline=debug"));
        assert!(s.json);
        let text = LogSettings::from_source(&Source::from_pairs([("LIFELINE_LOG_FORMAT", "xml")]));
        assert!(!text.json);
    }
}
