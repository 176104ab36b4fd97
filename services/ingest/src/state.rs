use std::sync::Arc;
use std::time::Duration;

use lifeline_store::PgPool;
use metrics_exporter_prometheus::PrometheusHandle;
use redis::aio::ConnectionManager;

use crate::IngestSettings;
use crate::rate_limit::RateLimiter;
use crate::token_cache::TokenResolver;
use crate::writer::PingWriter;

pub struct AppState {
    pub pool: PgPool,
    pub redis: ConnectionManager,
    pub tokens: Arc<TokenResolver>,
    pub limiter: RateLimiter,
    pub writer: Arc<PingWriter>,
    pub settings: IngestSettings,
    pub metrics: &'static PrometheusHandle,
    pub pg_timeout: Duration,
}
