use lifeline_ingest::IngestSettings;
use lifeline_scheduler::SchedulerSettings;
use lifeline_store::StoreSettings;
use lifeline_store::settings::{EnvError, string, url_with_scheme};

/// Everything the process reads from its environment, validated as a whole before anything
/// connects or binds. The README's "Configuration" section lists every variable and default.
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
    pub fn from_env() -> Result<Self, EnvError> {
        let store = StoreSettings::from_env()?;
        let ingest = IngestSettings::from_env()?;
        let default_url = format!("http://{}", ingest.addr);
        let public_url = url_with_scheme(
            "LIFELINE_PUBLIC_URL",
            string("LIFELINE_PUBLIC_URL", &default_url)?,
            &["http", "https"],
        )?
        .trim_end_matches('/')
        .to_owned();
        let scheduler = SchedulerSettings::from_env(&public_url)?;
        Ok(Self {
            store,
            ingest,
            scheduler,
            public_url,
        })
    }
}
