//! The retention loop: one pass every `LIFELINE_PURGE_INTERVAL_MS` over all heartbeats (pings,
//! status changes), then all teams (incidents, notifications, audit log), then what is kept a
//! fixed period (delivery attempts, outages) — in small chunks with a pause between them so the
//! purge never competes with ingest for long. It also forgets the beacons of ingest processes
//! gone for a day.

use std::time::Duration;

use chrono::Utc;
use lifeline_store::{PgPool, StoreError, coverage, retention};
use tokio::sync::watch;

use crate::SchedulerSettings;

/// The first pass waits this long (or the interval, if shorter): start-up belongs to ingest
/// catching up, not to a walk over every heartbeat.
const FIRST_PASS_AFTER: Duration = Duration::from_secs(60);

pub(crate) async fn run(
    pool: PgPool,
    settings: SchedulerSettings,
    mut stop: watch::Receiver<bool>,
) {
    let mut wait = settings.purge_every.min(FIRST_PASS_AFTER);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
        wait = settings.purge_every;
        match pass(&pool, &settings, &stop).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "retention pass removed old pings"),
            Err(e) => tracing::warn!(error = %e, "retention pass failed"),
        }
        if let Ok(mut conn) = pool.get().await {
            let _ = coverage::prune_beacons(&mut conn, Utc::now()).await;
        }
    }
}

/// One pass over every heartbeat; returns the pings deleted. Only one replica purges at a time
/// (an advisory lock held by the pass's connection); the others skip their pass.
pub async fn pass(
    pool: &PgPool,
    settings: &SchedulerSettings,
    stop: &watch::Receiver<bool>,
) -> Result<usize, StoreError> {
    let mut conn = pool.get().await?;
    if !retention::try_lock(&mut conn).await? {
        return Ok(0);
    }
    let walked = walk(&mut conn, settings, stop).await;
    // A failed unlock leaves the lock to the connection's end; a broken connection is not
    // returned to the pool, so it is not held for long.
    let _ = retention::unlock(&mut conn).await;
    walked
}

/// Returns the pings deleted.
async fn walk(
    conn: &mut lifeline_store::PgConn,
    settings: &SchedulerSettings,
    stop: &watch::Receiver<bool>,
) -> Result<usize, StoreError> {
    let mut cursor = None;
    let mut pings = 0;
    while !*stop.borrow() {
        let chunk = retention::purge_chunk(
            conn,
            cursor,
            Utc::now(),
            settings.purge_chunk,
            settings.purge_rows,
        )
        .await?;
        pings += chunk.deleted;
        metrics::counter!("lifeline_purged_pings_total").increment(chunk.deleted as u64);
        purged("status_changes", chunk.status_changes);
        cursor = chunk.next;
        if cursor.is_none() {
            break;
        }
        pause(settings).await;
    }
    let mut cursor = None;
    while !*stop.borrow() {
        let chunk = retention::purge_team_history_chunk(
            conn,
            cursor,
            Utc::now(),
            settings.purge_chunk,
            settings.purge_rows,
        )
        .await?;
        purged("incidents", chunk.incidents);
        purged("notifications", chunk.notifications);
        purged("audit_log", chunk.audit);
        cursor = chunk.next;
        if cursor.is_none() {
            break;
        }
        pause(settings).await;
    }
    while !*stop.borrow() {
        let deleted = retention::purge_fixed_chunk(conn, Utc::now(), settings.purge_rows).await?;
        purged("fixed_period", deleted);
        if deleted == 0 {
            break;
        }
        pause(settings).await;
    }
    Ok(pings)
}

/// Counts history rows deleted (`lifeline_purged_rows_total{table}`).
fn purged(table: &'static str, rows: usize) {
    if rows > 0 {
        tracing::debug!(table, rows, "retention purged history");
        metrics::counter!("lifeline_purged_rows_total", "table" => table).increment(rows as u64);
    }
}

async fn pause(settings: &SchedulerSettings) {
    if !settings.purge_pause.is_zero() {
        tokio::time::sleep(settings.purge_pause).await;
    }
}
