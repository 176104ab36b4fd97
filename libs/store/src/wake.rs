//! Wake-ups for the scheduler: a Redis message when something may need its attention sooner
//! than it planned to look — a deadline moved earlier (a first ping, a heartbeat resumed, a run
//! with limits started: the domain's `Decision::wake_scheduler`) or an alert was queued outside
//! the scheduler (a failure signal, a recovery).
//! Best effort: a lost wake-up costs at most the scheduler's fallback poll.

use redis::aio::ConnectionManager;

use crate::RedisKeys;

/// What the scheduler should look at again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wake {
    /// A deadline moved earlier than planned (a first ping, a heartbeat resumed, a run with
    /// limits started).
    pub deadlines: bool,
    /// Alerts or recovery notices were queued.
    pub deliveries: bool,
}

const DEADLINES: &str = "deadlines";
const DELIVERIES: &str = "deliveries";

/// Publishes the wake-up; failures are logged, never returned (the poll covers them).
pub async fn publish(redis: &mut ConnectionManager, keys: &RedisKeys, wake: Wake) {
    for (wanted, message) in [(wake.deadlines, DEADLINES), (wake.deliveries, DELIVERIES)] {
        if !wanted {
            continue;
        }
        let sent: Result<i64, _> = redis::cmd("PUBLISH")
            .arg(keys.wake())
            .arg(message)
            .query_async(redis)
            .await;
        if let Err(e) = sent {
            tracing::debug!(error = %e, message, "wake-up not published");
        }
    }
}

/// Reads a wake-up message back.
pub fn parse(message: &str) -> Wake {
    Wake {
        deadlines: message == DEADLINES,
        deliveries: message == DELIVERIES,
    }
}
