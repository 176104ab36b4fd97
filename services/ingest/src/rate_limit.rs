//! Per-heartbeat rate limit: a fixed-window count per heartbeat, shared by every ingest process
//! through Redis without a Redis round trip on the ping path. Each process counts its own pings
//! in memory and decides on its count plus the others' as of its last exchange: at the
//! exchanges every [`FLUSH_EVERY`] it adds what it counted to the shared counters (one script
//! call) and reads back their totals.
//!
//! A heartbeat takes part in an exchange once it matters to the others: at its first ping of a
//! window at this process (to learn what the others counted so far), when this process has
//! counted a tenth of the limit since the last one ([`RateLimiter::batch_of`]), or at every
//! exchange while the heartbeat's total is past half its limit. A heartbeat far below its limit
//! — nearly all of them — costs Redis nothing for most of its pings (a job pinging every second
//! costs two counter updates a minute at the default limit, not sixty), and no ping waits for
//! Redis: not even the first of a window, which at the top of each minute is every ping of a
//! cron burst. So a heartbeat may get past its limit by what the processes accepted in one
//! flush interval before they learnt the others' counts, plus less than a tenth of the limit
//! per other process, and no more. While Redis is unusable each process limits on its own
//! count alone.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::Duration;

use chrono::Utc;
use lifeline_domain::HeartbeatId;
use lifeline_store::RedisKeys;
use redis::aio::ConnectionManager;

use crate::IngestSettings;
use crate::redis_health::RedisHealth;

/// How often counts are exchanged with the other processes through Redis.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);

/// Adds each `ARGV[i]` to counter `KEYS[i]` and returns the totals; a counter this call creates
/// gets its expiry (`ARGV[#KEYS + 1]` seconds) at once, so none is left without one whichever
/// process created it, even after Redis lost its data. One call per exchange: Redis parses one
/// command instead of two per heartbeat.
static EXCHANGE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
        local ttl = ARGV[#KEYS + 1]
        local totals = {}
        for i, key in ipairs(KEYS) do
            local total = redis.call('INCRBY', key, ARGV[i])
            if total == tonumber(ARGV[i]) then redis.call('EXPIRE', key, ttl) end
            totals[i] = total
        end
        return totals
        ",
    )
});

/// Shards of the count table: the HTTP workers rarely wait for one another.
const SHARDS: usize = 16;

pub struct RateLimiter {
    redis: ConnectionManager,
    keys: RedisKeys,
    health: Arc<RedisHealth>,
    limit: u32,
    /// Pings a process counts of a heartbeat below half its limit before it sends them.
    batch: u64,
    window: FixedWindow,
    counts: [Mutex<WindowCounts>; SHARDS],
    hasher: RandomState,
    /// Counts to send at the next exchange: those with a batch of pings since the last one, and
    /// those past half their limit. Walking every count instead would cost more than the pings.
    dirty: Mutex<Vec<(WindowKey, Arc<Count>)>>,
}

/// A heartbeat in one window.
type WindowKey = (HeartbeatId, i64);

/// One shard's counts in the current window; emptied when the next window starts (counts of
/// the ended one still waiting to be sent stay alive in the dirty list).
#[derive(Default)]
struct WindowCounts {
    window: i64,
    counts: HashMap<HeartbeatId, Arc<Count>>,
}

/// One heartbeat's count in one window.
#[derive(Default)]
struct Count {
    /// Counted here and not yet added to the shared counter.
    pending: AtomicU64,
    /// The shared counter as last read (this process's flushed pings included).
    shared: AtomicU64,
    /// In the dirty list, waiting for the next exchange.
    marked: AtomicBool,
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
            batch: Self::batch_of(settings.rate_limit),
            window,
            counts: std::array::from_fn(|_| Mutex::default()),
            hasher: RandomState::new(),
            dirty: Mutex::new(Vec::new()),
        }
    }

    /// `Ok(())` to go on, or `Err(retry_after)` when the heartbeat is over its limit. Refused
    /// pings count too, as they do in the window's shared counter. Never waits: a heartbeat's
    /// first ping of a window here is decided on this process's count, and puts the heartbeat
    /// in the next exchange, which brings back what the others counted.
    pub fn check(&self, heartbeat: HeartbeatId) -> Result<(), Duration> {
        if self.limit == 0 {
            return Ok(());
        }
        let (window, left) = self.window.now();
        let (count, fresh) = self.count(heartbeat, window);
        let mine = count.pending.fetch_add(1, Ordering::Relaxed) + 1;
        let total = count.shared.load(Ordering::Relaxed) + mine;
        if fresh || mine >= self.batch || total >= self.hot() {
            self.mark((heartbeat, window), &count);
        }
        if total > u64::from(self.limit) {
            Err(left)
        } else {
            Ok(())
        }
    }

    /// How many pings of a heartbeat below half its limit a process counts before it sends
    /// them: a tenth of the limit (at least one). The others may therefore not know of that
    /// many, less one, per process — the tolerance this buys an exchange per batch, not per
    /// ping.
    fn batch_of(limit: u32) -> u64 {
        (u64::from(limit) / 10).max(1)
    }

    /// Past half its limit a heartbeat's count is exchanged at every flush: the others may be
    /// what takes it over.
    fn hot(&self) -> u64 {
        u64::from(self.limit) / 2
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

    /// The heartbeat's count in `window`, and whether it was just created.
    fn count(&self, heartbeat: HeartbeatId, window: i64) -> (Arc<Count>, bool) {
        let shard = self.hasher.hash_one(heartbeat) as usize % SHARDS;
        let mut table = lock(&self.counts[shard]);
        // A ping that read the clock just before the window turned is counted in the new one:
        // a second's difference, never a ping uncounted.
        if window > table.window {
            table.window = window;
            table.counts.clear();
        }
        let mut fresh = false;
        let count = table
            .counts
            .entry(heartbeat)
            .or_insert_with(|| {
                fresh = true;
                Arc::default()
            })
            .clone();
        (count, fresh)
    }

    /// Puts the count in the next exchange, unless it is already there.
    fn mark(&self, key: WindowKey, count: &Arc<Count>) {
        if !count.marked.swap(true, Ordering::Relaxed) {
            lock(&self.dirty).push((key, count.clone()));
        }
    }

    async fn flush(&self) {
        if self.limit == 0 {
            return;
        }
        let (current, _) = self.window.now();
        let mut marked = std::mem::take(&mut *lock(&self.dirty));
        // A count of an ended window decides nothing any more, here or elsewhere: dropped, so
        // that neither a Redis outage nor the turn of a window leaves them piling up.
        marked.retain(|(key, count)| {
            let live = key.1 >= current;
            if !live {
                count.marked.store(false, Ordering::Relaxed);
            }
            live
        });
        if !self.health.usable() {
            lock(&self.dirty).extend(marked);
            return;
        }
        if marked.is_empty() {
            return;
        }
        let mut taken = Vec::with_capacity(marked.len());
        let mut call = EXCHANGE.prepare_invoke();
        for (key, count) in marked {
            // Marked again by a ping that comes after this: sent then.
            count.marked.store(false, Ordering::Relaxed);
            let n = count.pending.swap(0, Ordering::Relaxed);
            let (heartbeat, window) = key;
            call.key(self.keys.rate_limit(heartbeat, window)).arg(n);
            taken.push((key, count, n));
        }
        call.arg(self.window.seconds() * 2);
        // A heartbeat with nothing new here is still refreshed while it is past half its limit:
        // the others may be what takes it over (`INCRBY 0` reads the total).
        let hot = self.hot();
        let mut redis = self.redis.clone();
        match call.invoke_async::<Vec<u64>>(&mut redis).await {
            Ok(totals) if totals.len() == taken.len() => {
                for ((key, count, _), total) in taken.into_iter().zip(totals) {
                    count.shared.fetch_max(total, Ordering::Relaxed);
                    if total >= hot && key.1 == current {
                        self.mark(key, &count);
                    }
                }
            }
            Ok(_) => {}
            Err(e) => {
                self.health.failed(&e);
                // Not shared: keep counting them here, and send them once Redis is back.
                for (key, count, n) in taken {
                    if n > 0 {
                        count.pending.fetch_add(n, Ordering::Relaxed);
                        self.mark(key, &count);
                    }
                }
            }
        }
    }
}

/// The lock, also after a panic elsewhere: the counts stay usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::net::SocketAddr;

    use lifeline_settings::Source;
    use lifeline_store::{StoreSettings, redis_conn};

    use super::*;

    /// A limiter with one-second windows whose Redis is never reached: nothing listens on its
    /// port, so any exchange it attempted would fail and mark Redis unusable.
    fn limiter() -> RateLimiter {
        let store =
            StoreSettings::from_source(&Source::from_pairs([("REDIS_URL", "redis://127.0.0.1:1")]))
                .unwrap();
        let redis = redis_conn::connect(&store).unwrap();
        let mut settings = IngestSettings::local(SocketAddr::from(([127, 0, 0, 1], 0)));
        settings.rate_window = Duration::from_secs(1);
        RateLimiter::new(
            redis,
            RedisKeys::new("test:"),
            Arc::new(RedisHealth::default()),
            &settings,
        )
    }

    fn marked(limiter: &RateLimiter) -> usize {
        lock(&limiter.dirty).len()
    }

    /// Waits until the window after `window` has begun.
    async fn next_window(limiter: &RateLimiter, window: i64) {
        while limiter.window.now().0 <= window {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn outage() -> redis::RedisError {
        (redis::ErrorKind::Io, "test outage").into()
    }

    #[tokio::test]
    async fn counts_of_an_ended_window_are_dropped_while_redis_is_unusable() {
        let limiter = limiter();
        let heartbeat = HeartbeatId::new();
        // At the start of a window: the next steps have most of a second to run in it.
        next_window(&limiter, limiter.window.now().0).await;
        let window = limiter.window.now().0;
        limiter.health.failed(&outage());
        limiter.check(heartbeat).unwrap();
        assert_eq!(marked(&limiter), 1, "a window's first ping is marked");
        limiter.flush().await;
        assert_eq!(limiter.window.now().0, window, "the test ran too slowly");
        assert_eq!(marked(&limiter), 1, "kept for when Redis is back");
        next_window(&limiter, window).await;
        limiter.health.failed(&outage());
        limiter.flush().await;
        assert_eq!(marked(&limiter), 0, "the ended window's count is dropped");
    }

    #[tokio::test]
    async fn counts_of_an_ended_window_are_not_sent() {
        let limiter = limiter();
        let heartbeat = HeartbeatId::new();
        let window = limiter.window.now().0;
        limiter.check(heartbeat).unwrap();
        next_window(&limiter, window).await;
        assert!(limiter.health.usable());
        limiter.flush().await;
        assert_eq!(marked(&limiter), 0);
        // Sending it would have failed (nothing listens) and marked Redis unusable.
        assert!(limiter.health.usable(), "no exchange was attempted");
        // The heartbeat starts the new window afresh, and is marked for the next exchange.
        limiter.check(heartbeat).unwrap();
        assert_eq!(marked(&limiter), 1);
    }
}
