//! Everything the `lifeline` process reads from its environment, gathered in one struct so that a
//! bad value anywhere stops start-up before anything connects or binds.

use lifeline_ingest::IngestSettings;
use lifeline_scheduler::SchedulerSettings;
use lifeline_settings::{SettingError, Source};
use lifeline_store::StoreSettings;

/// The process's settings, validated as a whole. The README's "Configuration" section lists
/// every variable and default.
#[derive(Clone, Debug)]
pub struct Settings {
    pub store: StoreSettings,
    pub ingest: IngestSettings,
    pub scheduler: SchedulerSettings,
    /// `LIFELINE_PUBLIC_URL`: the base of ping URLs as users see them (default: the ingest
    /// address over http).
    pub public_url: String,
}

impl Settings {
    pub fn from_source(source: &Source) -> Result<Self, SettingError> {
        let store = StoreSettings::from_source(source)?;
        let ingest = IngestSettings::from_source(source)?;
        let public_url = source
            .url(
                "LIFELINE_PUBLIC_URL",
                &format!("http://{}", ingest.addr),
                &["http", "https"],
            )?
            .trim_end_matches('/')
            .to_owned();
        let scheduler = SchedulerSettings::from_source(source, &public_url)?;
        Ok(Self {
            store,
            ingest,
            scheduler,
            public_url,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn the_public_url_defaults_to_the_ingest_address() {
        let s = Settings::from_source(&Source::from_pairs([(
            "LIFELINE_INGEST_ADDR",
            "127.0.0.1:9000",
        )]))
        .unwrap();
        assert_eq!(s.public_url, "http://127.0.0.1:9000");
        assert_eq!(s.scheduler.notify.public_url, "http://127.0.0.1:9000");
        let s = Settings::from_source(&Source::empty()).unwrap();
        assert_eq!(s.public_url, "http://127.0.0.1:8080");
    }

    #[test]
    fn the_public_url_loses_its_trailing_slash_and_reaches_the_alerts() {
        let source = Source::from_pairs([("LIFELINE_PUBLIC_URL", "https://hb.example.com/")]);
        let s = Settings::from_source(&source).unwrap();
        assert_eq!(s.public_url, "https://hb.example.com");
        assert_eq!(s.scheduler.notify.public_url, "https://hb.example.com");
    }

    #[test]
    fn a_wrong_value_in_any_part_names_its_variable() {
        for (name, value) in [
            ("DATABASE_URL", "mysql://x"),
            ("LIFELINE_INGEST_ADDR", "localhost"),
            ("LIFELINE_PUBLIC_URL", "hb.example.com"),
            ("LIFELINE_PUBLIC_URL", "ftp://hb.example.com"),
            ("LIFELINE_DELIVERY_CONCURRENCY", "0"),
            ("LIFELINE_SMTP_FROM", "not an address"),
        ] {
            let err = Settings::from_source(&Source::from_pairs([(name, value)])).unwrap_err();
            assert_eq!(err.name, name, "{name}={value}: {err}");
        }
    }
}
