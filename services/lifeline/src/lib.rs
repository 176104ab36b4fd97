//! The `lifeline` command: runs any service role, or all of them in one process, and the
//! operator CLI (`lifeline admin …`) that scripts use.

pub mod admin;
pub mod cli;
pub mod demo;
pub mod replay;
pub mod run;
pub mod settings;

use anyhow::Context;
use lifeline_ops::shutdown_signal;
use lifeline_store::pg;

pub use settings::Settings;

/// `lifeline migrate`.
pub async fn migrate(settings: &Settings, revert_all: bool) -> anyhow::Result<()> {
    let url = &settings.store.database_url;
    let done = if revert_all {
        pg::revert_all(url).await
    } else {
        pg::migrate(url).await
    }
    .context("DATABASE_URL: migrating")?;
    let verb = if revert_all { "reverted" } else { "applied" };
    if done.is_empty() {
        tracing::info!("schema is up to date");
    }
    for version in done {
        tracing::info!(%version, "{verb} migration");
    }
    Ok(())
}

/// Which services a process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Roles {
    pub ingest: bool,
    pub scheduler: bool,
    pub web: bool,
    pub analyzer: bool,
    pub billing: bool,
}

impl Roles {
    pub const ALL: Roles = Roles {
        ingest: true,
        scheduler: true,
        web: true,
        analyzer: true,
        billing: true,
    };
    pub const NONE: Roles = Roles {
        ingest: false,
        scheduler: false,
        web: false,
        analyzer: false,
        billing: false,
    };
}

/// `lifeline ingest`, `lifeline scheduler`, `lifeline web`, `lifeline analyzer`, `lifeline billing`
/// and `lifeline all`: start the services, run until SIGINT or SIGTERM, then shut down gracefully
/// (pings in flight are committed and answered, notifications being sent are recorded, pages and
/// Stripe events being served finish).
pub async fn serve(settings: Settings, roles: Roles) -> anyhow::Result<()> {
    migrate(&settings, false).await?;
    let ingest = if roles.ingest {
        let ingest = lifeline_ingest::start(settings.ingest.clone(), settings.store.clone())
            .await
            .context("starting ingest")?;
        tracing::info!(
            addr = %ingest.addr,
            ping_url = %settings.web.ping_url,
            "ping API listening; ping URLs look like {}/api/v1/hb/<token>",
            settings.web.ping_url
        );
        Some(ingest)
    } else {
        None
    };
    let scheduler = if roles.scheduler {
        let metrics = lifeline_ops::prometheus();
        let running =
            lifeline_scheduler::start(settings.scheduler.clone(), settings.store.clone(), metrics)
                .await
                .context("starting the scheduler")?;
        Some(running)
    } else {
        None
    };
    let analyzer = if roles.analyzer {
        let metrics = lifeline_ops::prometheus();
        let running =
            lifeline_analyzer::start(settings.analyzer.clone(), settings.store.clone(), metrics)
                .await
                .context("starting the analyzer")?;
        Some(running)
    } else {
        None
    };
    let billing = if roles.billing {
        let metrics = lifeline_ops::prometheus();
        let running = lifeline_billing::start(
            settings.billing.clone(),
            settings.store.clone(),
            settings.scheduler.notify.clone(),
            metrics,
        )
        .await
        .context("starting billing")?;
        tracing::info!(
            addr = %running.addr,
            "billing listening; Stripe posts events to http://{}{}",
            running.addr,
            lifeline_billing::WEBHOOK_PATH
        );
        Some(running)
    } else {
        None
    };
    let web = if roles.web {
        let web = lifeline_web::start(
            settings.web.clone(),
            settings.store.clone(),
            settings.scheduler.notify.clone(),
        )
        .await
        .context("starting the dashboard")?;
        tracing::info!(
            addr = %web.addr,
            "dashboard at {}/ (management API under /api/v1/)",
            settings.web.public_url
        );
        Some(web)
    } else {
        None
    };
    shutdown_signal().await;
    tracing::info!("shutting down: finishing pings and deliveries in flight");
    if let Some(web) = web {
        web.stop().await.context("stopping the dashboard")?;
    }
    if let Some(ingest) = ingest {
        ingest.stop().await.context("stopping ingest")?;
    }
    if let Some(scheduler) = scheduler {
        scheduler.stop().await;
    }
    if let Some(analyzer) = analyzer {
        analyzer.stop().await;
    }
    if let Some(billing) = billing {
        billing.stop().await.context("stopping billing")?;
    }
    tracing::info!("stopped");
    Ok(())
}
