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
    window: FixedWindow,
}

/// Fixed windows of whole seconds, aligned on the Unix epoch so that every process agrees on
/// where a window starts (their clocks need only agree to the second).
#[derive(Clone, Copy, Debug)]
pub struct FixedWindow {
    secs: i64,
}

impl FixedWindow {
    pub fn new(length: Duration) -> Self {
        Self {
            secs: i64::try_from(length.as_secs()).unwrap_or(60).max(1),
        }
    }

    pub fn length(&self) -> Duration {
        Duration::from_secs(self.secs.unsigned_abs())
    }

    pub fn seconds(&self) -> i64 {
        self.secs
    }

    /// The current window's number, and the time left until the next one (at least a second,
    /// as `Retry-After` counts in seconds).
    pub fn now(&self) -> (i64, Duration) {
        let now = Utc::now().timestamp();
        let window = now.div_euclid(self.secs);
        let left = (window + 1) * self.secs - now;
        (window, Duration::from_secs(left.unsigned_abs().max(1)))
    }
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
            window: FixedWindow::new(settings.rate_window),
        }
    }

    /// `Ok(())` to go on, or `Err(retry_after)` when the heartbeat is over its limit.
    pub async fn check(&self, heartbeat: HeartbeatId) -> Result<(), Duration> {
        if self.limit == 0 || !self.health.usable() {
            return Ok(());
        }
        let (window, left) = self.window.now();
        let key = self.keys.rate_limit(heartbeat, window);
        let mut redis = self.redis.clone();
        let counted: redis::RedisResult<(u64,)> = redis::pipe()
            .incr(&key, 1u64)
            .expire(&key, self.window.seconds() * 2)
            .ignore()
            .query_async(&mut redis)
            .await;
        match counted {
            Ok((n,)) if n > u64::from(self.limit) => Err(left),
            Ok(_) => Ok(()),
            Err(e) => {
                self.health.failed(&e);
                Ok(())
            }
        }
    }
}
