//! The public ping API: `GET|POST|HEAD /api/v1/hb/{token}[/{signal}]`.
//!
//! A ping is answered `200` only after it is committed in Postgres. Requests resolve their token
//! through an in-process cache (backed by Redis and Postgres, invalidated over Redis pub/sub,
//! with a limit per client address on unknown tokens), pass a per-heartbeat rate limit, and
//! hand the ping to the group-commit writer, which stores all pings that arrived during the
//! previous commit in one transaction.

mod beacon;
mod error;
mod models;
mod rate_limit;
mod redis_health;
mod routes;
pub mod settings;
mod state;
mod token_cache;
mod unknown_tokens;
mod writer;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use lifeline_ops::{Endpoints, OpsServer};
use lifeline_store::{RedisKeys, StoreSettings};

pub use error::TEXT_PLAIN;
pub use settings::IngestSettings;

use crate::rate_limit::RateLimiter;
use crate::redis_health::RedisHealth;
use crate::routes::ops::IngestReadiness;
use crate::state::AppState;
use crate::token_cache::TokenResolver;
use crate::unknown_tokens::UnknownTokenLimit;
use crate::writer::PingWriter;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("LIFELINE_INGEST_ADDR: cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("LIFELINE_INGEST_OPS_ADDR: cannot listen on {addr}")]
    OpsBind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] lifeline_store::StoreError),
    #[error("REDIS_URL: {0}")]
    Redis(#[from] redis::RedisError),
}

/// A started ingest service.
pub struct Running {
    /// The address it listens on (useful when configured with port 0).
    pub addr: SocketAddr,
    /// Where `/readyz` and `/metrics` are served.
    pub ops_addr: SocketAddr,
    ops: OpsServer,
    server: ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    writer: Arc<PingWriter>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting pings, lets the ones in flight finish (their batch is committed and
    /// answered), then stops the writers.
    pub async fn stop(self) -> std::io::Result<()> {
        self.server.stop(true).await;
        self.finish().await
    }

    /// Waits until the server stops (it stops when `stop` is called from elsewhere).
    pub async fn wait(self) -> std::io::Result<()> {
        self.finish().await
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.clone()
    }

    async fn finish(self) -> std::io::Result<()> {
        let served = self
            .task
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        self.writer.shutdown().await;
        for task in self.background {
            task.abort();
        }
        self.ops.stop().await;
        served
    }
}

/// Starts the ingest service and returns once it listens.
pub async fn start(settings: IngestSettings, store: StoreSettings) -> Result<Running, StartError> {
    let pool = lifeline_store::pg::pool(&store)?;
    let redis = lifeline_store::redis_conn::connect(&store)?;
    let redis_client = lifeline_store::redis_conn::client(&store)?;
    let keys = RedisKeys::new(store.redis_prefix.clone());
    let health = Arc::new(RedisHealth::default());
    // Installed before anything records a metric.
    let metrics = lifeline_ops::prometheus();

    let tokens = Arc::new(TokenResolver::new(
        pool.clone(),
        redis.clone(),
        keys.clone(),
        health.clone(),
    ));
    let listener = tokio::spawn(token_cache::listen(
        tokens.clone(),
        redis_client,
        keys.clone(),
        store.redis_timeout,
    ));
    let poller = tokio::spawn(token_cache::poll_revocations(tokens.clone()));
    let beacon = tokio::spawn(beacon::run(
        pool.clone(),
        store.beacon_every,
        store.blind_after,
    ));
    let writer = PingWriter::start(&store, &settings, redis.clone());
    let limiter = Arc::new(RateLimiter::new(
        redis.clone(),
        keys.clone(),
        health.clone(),
        &settings,
    ));
    let exchange = tokio::spawn(limiter.clone().run());
    let unknown_tokens = UnknownTokenLimit::new(redis.clone(), keys, health, &settings);
    let ops = Endpoints::new(
        IngestReadiness {
            pool,
            redis,
            pg_timeout: store.pg_timeout,
        },
        metrics,
    );
    let state = web::Data::new(AppState {
        tokens,
        limiter,
        unknown_tokens,
        writer: writer.clone(),
        settings: settings.clone(),
        stored: metrics::counter!("lifeline_pings_total", "result" => "ok"),
    });

    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(actix_web::middleware::from_fn(
                lifeline_ops::no_body_for_head,
            ))
            .configure(routes::configure)
    })
    .disable_signals()
    .shutdown_timeout(10)
    .backlog(4096);
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    let server = server
        .bind(settings.addr)
        .map_err(|source| StartError::Bind {
            addr: settings.addr,
            source,
        })?;
    let addr = server.addrs().first().copied().unwrap_or(settings.addr);
    let ops = ops
        .serve(settings.ops_addr)
        .map_err(|source| StartError::OpsBind {
            addr: settings.ops_addr,
            source,
        })?;
    let ops_addr = ops.addr();
    let server = server.run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    tracing::info!(%addr, %ops_addr, "ingest listening; readiness and metrics on the ops address");
    Ok(Running {
        addr,
        ops_addr,
        ops,
        server: handle,
        task,
        writer,
        background: vec![listener, poller, beacon, exchange],
    })
}
