//! Plan changes scheduled for the end of a paid period (a downgrade, a cancellation) take
//! effect when the period ends: this loop applies the due ones every `check_every`. Any number
//! of billing processes may run it; each team is taken by one (`SKIP LOCKED`).

use std::time::Duration;

use chrono::Utc;
use lifeline_store::billing;
use tokio::sync::watch;

use crate::service::Billing;

/// Teams handled per transaction.
const BATCH: i64 = 100;

pub(crate) async fn run(
    state: actix_web::web::Data<Billing>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        apply_due(&state).await;
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Applies every change due now, a batch at a time.
async fn apply_due(state: &Billing) {
    loop {
        let due = async {
            let mut conn = state.pool.get().await?;
            billing::apply_due(&mut conn, Utc::now(), BATCH).await
        };
        match due.await {
            Ok(due) => {
                state.plan_changed(&due.changed).await;
                // A batch short of the limit took every team that was due.
                if (due.teams as i64) < BATCH {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "plan changes due at period end: retrying at the next check");
                return;
            }
        }
    }
}
