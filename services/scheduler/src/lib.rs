//! The scheduler: decides deadlines (late, down, stalled and too-long runs),
//! opens incidents with their alerts in one transaction, delivers notifications with retries,
//! and purges pings past each plan's retention. Any number of replicas share the work through
//! `FOR UPDATE SKIP LOCKED`; they sleep until the next deadline or a Redis wake-up.

mod deadlines;
mod delivery;
mod flapping;
mod ops;
pub mod purge;
pub mod settings;
mod wake;

use std::net::SocketAddr;
use std::sync::Arc;

use lifeline_notify::Notifier;
use lifeline_ops::{Endpoints, OpsServer, PrometheusHandle};
use lifeline_store::{PgPool, RedisKeys, StoreSettings};
use tokio::sync::{Notify, watch};

pub use settings::SchedulerSettings;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] lifeline_store::StoreError),
    #[error("REDIS_URL: {0}")]
    Redis(#[from] redis::RedisError),
    #[error(transparent)]
    Notify(#[from] lifeline_settings::SettingError),
    #[error("LIFELINE_SCHEDULER_ADDR: cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A started scheduler.
pub struct Running {
    /// Where its ops endpoints listen (useful when configured with port 0).
    pub ops_addr: SocketAddr,
    ops: OpsServer,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    listener: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops the loops; sends in flight finish and are recorded first.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        self.listener.abort();
        self.ops.stop().await;
    }
}

/// The scheduler delivers alerts, so it is the one to say at start-up that email channels exist
/// while SMTP is not configured: otherwise the operator learns it only from each alert given up.
/// Postgres may not answer yet; then the check is skipped (the loops report that soon enough).
async fn warn_if_email_cannot_be_sent(pool: &PgPool, notifier: &Notifier) {
    if notifier.email_unavailable().is_none() {
        return;
    }
    let counted = async {
        let mut conn = pool.get().await?;
        lifeline_store::channels::count_email(&mut conn).await
    };
    match counted.await {
        Ok(0) => {}
        Ok(channels) => tracing::warn!(
            channels,
            "{channels} email channels exist but SMTP is not configured: their alerts will not \
             be sent; set LIFELINE_SMTP_URL (e.g. smtps://user:password@mail.example.com)"
        ),
        Err(e) => tracing::debug!(error = %e, "could not count email channels at start-up"),
    }
}

/// Starts the deadline, delivery and retention loops, the wake-up listener and the ops
/// endpoints (which render `metrics`, the process's recorder).
pub async fn start(
    settings: SchedulerSettings,
    store: StoreSettings,
    metrics: &'static PrometheusHandle,
) -> Result<Running, StartError> {
    let pool = lifeline_store::pg::pool(&store)?;
    let client = lifeline_store::redis_conn::client(&store)?;
    let notifier = Notifier::new(settings.notify.clone())?;
    let wake_deadlines = Arc::new(Notify::new());
    let wake_deliveries = Arc::new(Notify::new());
    let (stop, stopped) = watch::channel(false);
    let deadline_loop = deadlines::DeadlineLoop {
        pool: pool.clone(),
        settings: settings.clone(),
        beacon_every: store.beacon_every,
        blind_after: store.blind_after,
        flapping: store.flapping,
        wake: wake_deadlines.clone(),
        deliveries: wake_deliveries.clone(),
    };
    let delivery_notifier = notifier.clone();
    let delivery_loop = delivery::DeliveryLoop {
        pool: pool.clone(),
        settings: settings.clone(),
        notifier,
        wake: wake_deliveries.clone(),
    };
    let readiness = ops::SchedulerReadiness {
        pool: pool.clone(),
        blind_after: store.blind_after,
    };
    let ops = Endpoints::new(readiness, metrics)
        .serve(settings.ops_addr)
        .map_err(|source| StartError::Bind {
            addr: settings.ops_addr,
            source,
        })?;
    let ops_addr = ops.addr();
    let tasks = vec![
        tokio::spawn(deadline_loop.run(stopped.clone())),
        tokio::spawn(delivery_loop.run(stopped.clone())),
        tokio::spawn(flapping::run(
            pool.clone(),
            store.flapping,
            wake_deliveries.clone(),
            stopped.clone(),
        )),
        tokio::spawn(purge::run(pool.clone(), settings, stopped)),
    ];
    let listener = tokio::spawn(wake::listen(
        client,
        RedisKeys::new(store.redis_prefix.clone()),
        wake_deadlines,
        wake_deliveries,
    ));
    tracing::info!(%ops_addr, "scheduler running; ops endpoints on this address");
    // In the background: `start` returns at once, so the caller installs its signal handlers
    // before anything (such as a slow first connection) can delay it.
    tokio::spawn(async move { warn_if_email_cannot_be_sent(&pool, &delivery_notifier).await });
    Ok(Running {
        ops_addr,
        ops,
        stop,
        tasks,
        listener,
    })
}
