//! The settling loop: ends flapping spells (`lifeline_store::flapping`) once their heartbeat has
//! been stable for the policy's stable period, queueing each spell's summary. Replicas share the
//! work: each spell's heartbeat is locked with `SKIP LOCKED` while it is settled.

use std::sync::Arc;
use std::time::Duration;

use lifeline_domain::FlapPolicy;
use lifeline_store::{PgPool, StoreError, flapping};
use tokio::sync::{Notify, watch};

/// Spells settled per statement.
const BATCH: i64 = 100;

pub(crate) async fn run(
    pool: PgPool,
    policy: FlapPolicy,
    deliveries: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    // A quarter of the stable period: a summary comes at most that late. Spells opened under an
    // earlier configuration are settled even while detection is off.
    let every = (policy.stable / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
        match settle(&pool, &policy).await {
            Ok(0) => {}
            Ok(queued) => {
                tracing::info!(queued, "flapping ended; summaries queued");
                deliveries.notify_one();
            }
            Err(e) => tracing::warn!(error = %e, "settling flapping heartbeats failed"),
        }
    }
}

async fn settle(pool: &PgPool, policy: &FlapPolicy) -> Result<usize, StoreError> {
    let mut conn = pool.get().await?;
    let mut queued = 0;
    // Bounded, so one tick never runs for long; what is left waits for the next.
    for _ in 0..10 {
        let settled = flapping::settle(&mut conn, policy, BATCH).await?;
        queued += settled.notifications;
        metrics::counter!("lifeline_flapping_ended_total").increment(settled.spells as u64);
        if settled.spells < BATCH as usize {
            break;
        }
    }
    Ok(queued)
}
