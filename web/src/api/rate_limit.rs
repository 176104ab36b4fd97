//! At most `LIFELINE_API_RATE_LIMIT` calls per key per minute, counted in Redis so every web
//! process shares the count: one counter per key per clock minute (`INCR`, expiring after two
//! minutes). A script that loops too fast gets 429 with `Retry-After` (the seconds to the next
//! minute). Redis down or slow: calls go through uncounted, since refusing every script while
//! Redis recovers would be worse than a minute without a limit.

use std::time::Duration;

use chrono::Utc;

use super::ApiError;
use crate::state::AppState;

/// How long a call waits for Redis before going through uncounted.
const REDIS_WAIT: Duration = Duration::from_millis(300);

pub async fn check(state: &AppState, key_id: uuid::Uuid) -> Result<(), ApiError> {
    let now = Utc::now().timestamp();
    let (minute, into_it) = (now.div_euclid(60), now.rem_euclid(60));
    let key = state.keys.api_calls(key_id, minute);
    let mut redis = state.redis.clone();
    let counted = tokio::time::timeout(
        REDIS_WAIT,
        redis::pipe()
            .atomic()
            .incr(&key, 1)
            .expire(&key, 120)
            .ignore()
            .query_async::<(u64,)>(&mut redis),
    )
    .await;
    let calls = match counted {
        Ok(Ok((calls,))) => calls,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "API rate limit not counted: Redis failed");
            return Ok(());
        }
        Err(_) => {
            tracing::warn!("API rate limit not counted: Redis timed out");
            return Ok(());
        }
    };
    let limit = state.settings.api_rate_limit;
    if calls > u64::from(limit) {
        // `into_it` is 0..=59, so the wait is 1..=60 s.
        let retry_after = u64::try_from(60 - into_it).unwrap_or(60);
        return Err(ApiError::rate_limited(limit, retry_after));
    }
    Ok(())
}
