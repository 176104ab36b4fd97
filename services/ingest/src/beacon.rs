//! The ingest beacon: proof, written to Postgres several times a second, that this process can
//! receive and store pings. The scheduler decides deadlines only inside that proven coverage and
//! treats a hole in it as Lifeline's outage, not the jobs' (see `lifeline_store::coverage`).

use std::time::Duration;

use lifeline_store::{PgPool, coverage};

/// Writes a beacon every `every` (`LIFELINE_BEACON_MS`) until aborted.
pub async fn run(pool: PgPool, every: Duration, blind_after: Duration) {
    let instance = lifeline_domain::InstanceId::new();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tick.tick().await;
        let beat = async {
            let mut conn = pool.get().await?;
            coverage::beat(&mut conn, instance, blind_after).await
        };
        match beat.await {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("ingest beacon written again");
            }
            Ok(()) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "ingest beacon not written; Postgres unreachable?");
            }
            Err(_) => {}
        }
    }
}
