//! Per-heartbeat rate limit: a fixed-window count per heartbeat, shared by every ingest process
//! through Redis without a Redis round trip on the ping path. Each process counts its own pings
//! in memory and decides on its count plus the others' as of its last exchange: read when the
//! heartbeat first pings it in a window, then every [`FLUSH_EVERY`], when it adds what it
//! counted to the shared counters (`INCRBY`, one pipeline for every heartbeat that pinged, and
//! for those past half their limit) and reads back their totals. So a heartbeat may get past
//! its limit by what the other processes accepted in the last flush interval, and no more.
//! While Redis is unusable each process limits on its own count alone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use lifeline_domain::HeartbeatId;
use lifeline_store::RedisKeys;
use moka::sync::Cache;
use redis::aio::ConnectionManager;

use crate::IngestSettings;
use crate::redis_health::RedisHealth;

/// How often counts are exchanged with the other processes through Redis.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);

pub struct RateLimiter {
    redis: ConnectionManager,
    keys: RedisKeys,
    health: Arc<RedisHealth>,
    limit: u32,
    window: FixedWindow,
    counts: Cache<WindowKey, Arc<Count>>,
    /// Counts to send at the next exchange: those with pings since the last one, and those
    /// past half their limit. Walking the whole cache instead would cost more than the pings.
    dirty: Mutex<Vec<(WindowKey, Arc<Count>)>>,
}

/// A heartbeat in one window.
type WindowKey = (HeartbeatId, i64);

/// One heartbeat's count in one window.
#[derive(Default)]
struct Count {
    /// Counted here and not yet added to the shared counter.
    pending: AtomicU64,
    /// The shared counter as last read (this process's flushed pings included).
    shared: AtomicU64,
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
        let window = FixedWindow::new(settings.rate_window);
        Self {
            redis,
            keys,
            health,
            limit: settings.rate_limit,
            window,
            counts: Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(window.length() * 2)
                .build(),
            dirty: Mutex::new(Vec::new()),
        }
    }

    /// `Ok(())` to go on, or `Err(retry_after)` when the heartbeat is over its limit. Refused
    /// pings count too, as they do in the window's shared counter. Only a heartbeat's first ping
    /// in a window at this process waits for Redis: it reads what the others counted so far.
    pub async fn check(&self, heartbeat: HeartbeatId) -> Result<(), Duration> {
        if self.limit == 0 {
            return Ok(());
        }
        let (window, left) = self.window.now();
        let entry = self.counts.entry((heartbeat, window)).or_default();
        let count = entry.value().clone();
        if entry.is_fresh() && self.health.usable() {
            let mut redis = self.redis.clone();
            let key = self.keys.rate_limit(heartbeat, window);
            match redis::cmd("GET")
                .arg(&key)
                .query_async::<Option<u64>>(&mut redis)
                .await
            {
                Ok(shared) => {
                    count
                        .shared
                        .fetch_max(shared.unwrap_or(0), Ordering::Relaxed);
                }
                Err(e) => self.health.failed(&e),
            }
        }
        let mine = count.pending.fetch_add(1, Ordering::Relaxed) + 1;
        if mine == 1 {
            self.mark((heartbeat, window), count.clone());
        }
        if count.shared.load(Ordering::Relaxed) + mine > u64::from(self.limit) {
            Err(left)
        } else {
            Ok(())
        }
    }

    /// Exchanges counts with the other processes every [`FLUSH_EVERY`], forever.
    pub async fn run(self: Arc<Self>) {
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.flush().await;
        }
    }

    fn mark(&self, key: WindowKey, count: Arc<Count>) {
        self.dirty
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((key, count));
    }

    async fn flush(&self) {
        if self.limit == 0 || !self.health.usable() {
            return;
        }
        let marked = std::mem::take(
            &mut *self
                .dirty
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        let mut taken = Vec::with_capacity(marked.len());
        let mut pipe = redis::pipe();
        for (key, count) in marked {
            // Marked again by a ping that came since: sent then.
            let n = count.pending.swap(0, Ordering::Relaxed);
            let (heartbeat, window) = key;
            let redis_key = self.keys.rate_limit(heartbeat, window);
            pipe.incr(&redis_key, n)
                .expire(&redis_key, self.window.seconds() * 2)
                .ignore();
            taken.push((key, count, n));
        }
        if taken.is_empty() {
            return;
        }
        // A heartbeat with nothing new here is still refreshed while it is past half its limit:
        // the others may be what takes it over (`INCRBY 0` reads the total).
        let hot = u64::from(self.limit) / 2;
        let (current, _) = self.window.now();
        let mut redis = self.redis.clone();
        match pipe.query_async::<Vec<u64>>(&mut redis).await {
            Ok(totals) if totals.len() == taken.len() => {
                for ((key, count, _), total) in taken.into_iter().zip(totals) {
                    count.shared.fetch_max(total, Ordering::Relaxed);
                    if total >= hot
                        && key.1 == current
                        && count.pending.load(Ordering::Relaxed) == 0
                    {
                        self.mark(key, count);
                    }
                }
            }
            Ok(_) => {}
            Err(e) => {
                self.health.failed(&e);
                // Not shared: keep counting them here, and send them once Redis is back.
                for (key, count, n) in taken {
                    if n > 0 && count.pending.fetch_add(n, Ordering::Relaxed) == 0 {
                        self.mark(key, count);
                    }
                }
            }
        }
    }
}
