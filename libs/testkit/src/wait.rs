//! Waiting on conditions instead of sleeping: a test goes on the moment what it waits for is
//! true, and a limit only bounds how long it may take before the test fails.

use std::time::Duration;

use tokio::time::Instant;

/// Long enough for any decision or delivery in the tests, short enough to fail fast.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// How often a condition is looked at again.
const POLL: Duration = Duration::from_millis(20);

/// Calls `probe` until `done` accepts its value or `limit` passes, and returns the last value
/// (so that the caller's assertion can show what it saw).
pub async fn wait_for<T>(
    limit: Duration,
    mut probe: impl AsyncFnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let until = Instant::now() + limit;
    loop {
        let value = probe().await;
        if done(&value) || Instant::now() >= until {
            return value;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Calls `probe` until it answers `true` or `limit` passes; returns its last answer.
pub async fn wait_until(limit: Duration, probe: impl AsyncFnMut() -> bool) -> bool {
    wait_for(limit, probe, |done| *done).await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn returns_as_soon_as_the_condition_holds() {
        let calls = AtomicU32::new(0);
        let started = Instant::now();
        let seen = wait_for(
            Duration::from_secs(5),
            async || calls.fetch_add(1, Ordering::SeqCst) + 1,
            |n| *n == 3,
        )
        .await;
        assert_eq!(seen, 3);
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn gives_up_at_the_limit_with_the_last_value() {
        let started = Instant::now();
        assert!(!wait_until(Duration::from_millis(100), async || false).await);
        assert!(started.elapsed() >= Duration::from_millis(100));
    }
}
