//! Everything the `lifeline` process reads from its environment, gathered in one struct so that a
//! bad value anywhere stops start-up before anything connects or binds.

use lifeline_analyzer::AnalyzerSettings;
use lifeline_billing::BillingSettings;
use lifeline_ingest::IngestSettings;
use lifeline_ops::logs::LogSettings;
use lifeline_scheduler::SchedulerSettings;
use lifeline_settings::{SettingError, Source};
use lifeline_store::StoreSettings;
use lifeline_web::WebSettings;

/// The process's settings, validated as a whole. The README's "Configuration" section lists
/// every variable and default.
#[derive(Clone, Debug)]
pub struct Settings {
    pub store: StoreSettings,
    pub ingest: IngestSettings,
    pub scheduler: SchedulerSettings,
    /// The dashboard, with the two public bases: `LIFELINE_PUBLIC_URL` (the dashboard, which
    /// alert links point at) and `LIFELINE_PING_URL` (the ping API, the base of ping URLs).
    pub web: WebSettings,
    pub analyzer: AnalyzerSettings,
    pub billing: BillingSettings,
}

impl Settings {
    pub fn from_source(source: &Source) -> Result<Self, SettingError> {
        // `LIFELINE_LOG` and `LIFELINE_LOG_FORMAT`: `main` sets logs up from them before
        // reading the rest (leniently, so that the rest's errors are logged); here they are
        // checked like any other setting.
        LogSettings::parse(source)?;
        let store = StoreSettings::from_source(source)?;
        let ingest = IngestSettings::from_source(source)?;
        let billing = BillingSettings::from_source(source)?;
        let web = WebSettings::from_source(source, ingest.addr, billing.addr)?;
        let scheduler = SchedulerSettings::from_source(source, &web.public_url)?;
        Ok(Self {
            store,
            ingest,
            scheduler,
            web,
            analyzer: AnalyzerSettings::from_source(source)?,
            billing,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn alerts_link_to_the_dashboard_and_ping_urls_to_the_ping_api() {
        let s = Settings::from_source(&Source::from_pairs([
            ("LIFELINE_INGEST_ADDR", "127.0.0.1:9000"),
            ("LIFELINE_WEB_ADDR", "127.0.0.1:9001"),
        ]))
        .unwrap();
        assert_eq!(s.web.ping_url, "http://127.0.0.1:9000");
        assert_eq!(s.web.public_url, "http://127.0.0.1:9001");
        assert_eq!(s.scheduler.notify.public_url, "http://127.0.0.1:9001");
        let s = Settings::from_source(&Source::empty()).unwrap();
        assert_eq!(s.web.ping_url, "http://127.0.0.1:8080");
        assert_eq!(s.web.public_url, "http://127.0.0.1:8000");
    }

    #[test]
    fn the_public_bases_lose_their_trailing_slash_and_reach_the_alerts() {
        let source = Source::from_pairs([
            ("LIFELINE_PUBLIC_URL", "https://lifeline.example.com/"),
            ("LIFELINE_PING_URL", "https://hb.example.com/"),
        ]);
        let s = Settings::from_source(&source).unwrap();
        assert_eq!(s.web.public_url, "https://lifeline.example.com");
        assert_eq!(s.web.ping_url, "https://hb.example.com");
        assert_eq!(
            s.scheduler.notify.public_url,
            "https://lifeline.example.com"
        );
    }

    #[test]
    fn a_wrong_value_in_any_part_names_its_variable() {
        for (name, value) in [
            ("DATABASE_URL", "mysql://x"),
            ("LIFELINE_INGEST_ADDR", "localhost"),
            ("LIFELINE_PUBLIC_URL", "hb.example.com"),
            ("LIFELINE_PUBLIC_URL", "ftp://hb.example.com"),
            ("LIFELINE_PING_URL", "hb.example.com"),
            ("LIFELINE_WEB_ADDR", "8000"),
            ("LIFELINE_DELIVERY_CONCURRENCY", "0"),
            ("LIFELINE_SMTP_FROM", "not an address"),
            ("LIFELINE_BILLING_ADDR", "8082"),
            ("LIFELINE_BILLING_URL", "billing.internal"),
            ("LIFELINE_LOG", "bogus=="),
            ("LIFELINE_LOG_FORMAT", "xml"),
            ("LIFELINE_SMTP_URL", "mail.example.com"),
        ] {
            let err = Settings::from_source(&Source::from_pairs([(name, value)])).unwrap_err();
            assert_eq!(err.name, name, "{name}={value}: {err}");
        }
    }
}
