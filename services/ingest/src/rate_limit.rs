//! Per-heartbeat rate limit: a fixed-window counter in Redis, shared by every ingest process.
//! When Redis is unavailable pings are let through: losing a job's pings would be worse than
//! briefly not limiting them.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use lifeline_domain::HeartbeatId;
use lifeline_store::RedisKeys;
use redis::aio::ConnectionManager;

use crate::IngestSettings;
use crate::redis_health::RedisHealth;

pub struct RateLimiter {
    redis: ConnectionManager,
    keys: RedisKeys,
    health: Arc<RedisHealth>,
    limit: u32,
    window_secs: i64,
}

impl RateLimiter {
    pub fn new(
        redis: ConnectionManager,
        keys: RedisKeys,
        health: Arc<RedisHealth>,
        settings: &IngestSettings,
    ) -> Self {
        Self {
            redis,
            keys,
            health,
            limit: settings.rate_limit,
            window_secs: i64::try_from(settings.rate_window.as_secs())
                .unwrap_or(60)
                .max(1),
        }
    }

    /// `Ok(())` to go on, or `Err(retry_after)` when the heartbeat is over its limit.
    pub async fn check(&self, heartbeat: HeartbeatId) -> Result<(), Duration> {
        if self.limit == 0 || !self.health.usable() {
            return Ok(());
        }
        let now = Utc::now().timestamp();
        let window = now.div_euclid(self.window_secs);
        let key = self.keys.rate_limit(heartbeat, window);
        let mut redis = self.redis.clone();
        let counted: redis::RedisResult<(u64,)> = redis::pipe()
            .incr(&key, 1u64)
            .expire(&key, self.window_secs * 2)
            .ignore()
            .query_async(&mut redis)
            .await;
        match counted {
            Ok((n,)) if n > u64::from(self.limit) => {
                let next_window = (window + 1) * self.window_secs;
                Err(Duration::from_secs(
                    u64::try_from(next_window - now).unwrap_or(1).max(1),
                ))
            }
            Ok(_) => Ok(()),
            Err(e) => {
                self.health.failed(&e);
                Ok(())
            }
        }
    }
}
