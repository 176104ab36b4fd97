//! The analyzer: trains AI heartbeats' models on a schedule ([`learning`], [`training`]) and
//! replays a history offline exactly as the live service would ([`replay`]). Any number of
//! analyzer processes share the work through `SKIP LOCKED`.

pub mod learning;
mod ops;
pub mod replay;
pub mod settings;
pub mod training;

use std::net::SocketAddr;

use lifeline_ops::{Endpoints, OpsServer, PrometheusHandle};
use lifeline_store::{RedisKeys, StoreSettings};
use tokio::sync::watch;

pub use settings::AnalyzerSettings;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] lifeline_store::StoreError),
    #[error("LIFELINE_ANALYZER_ADDR: cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A started analyzer.
pub struct Running {
    /// Where its ops endpoints listen (useful when configured with port 0).
    pub ops_addr: SocketAddr,
    ops: OpsServer,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops the loop after the heartbeat being trained is saved.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        self.ops.stop().await;
    }
}

/// Starts the training loop and the ops endpoints (which render `metrics`). Wake-ups for the
/// scheduler go through Redis when it is reachable; without it the scheduler's poll covers them.
pub async fn start(
    settings: AnalyzerSettings,
    store: StoreSettings,
    metrics: &'static PrometheusHandle,
) -> Result<Running, StartError> {
    let pool = lifeline_store::pg::pool(&store)?;
    let redis = match lifeline_store::redis_conn::client(&store) {
        Ok(client) => match redis::aio::ConnectionManager::new(client).await {
            Ok(conn) => Some((conn, RedisKeys::new(store.redis_prefix.clone()))),
            Err(e) => {
                tracing::warn!(error = %e, "Redis unreachable: the scheduler will see new deadlines at its next poll");
                None
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "REDIS_URL or LIFELINE_REDIS_CA_FILE unusable: no wake-ups for the scheduler");
            None
        }
    };
    let (stop, stopped) = watch::channel(false);
    let ops = Endpoints::new(ops::AnalyzerReadiness { pool: pool.clone() }, metrics)
        .serve(settings.ops_addr)
        .map_err(|source| StartError::Bind {
            addr: settings.ops_addr,
            source,
        })?;
    let ops_addr = ops.addr();
    let task = tokio::spawn(
        training::TrainingLoop {
            pool,
            settings,
            redis,
        }
        .run(stopped),
    );
    tracing::info!(%ops_addr, "analyzer running; ops endpoints on this address");
    Ok(Running {
        ops_addr,
        ops,
        stop,
        task,
    })
}
