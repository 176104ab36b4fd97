//! Our own outages are not the user's. Every ingest process writes a beacon row several times a
//! second; `[alive_since, seen_at]` of a beacon is a stretch during which Lifeline could receive
//! pings (an ingest process was up *and* could write to Postgres). The scheduler only decides on
//! deadlines inside that verified coverage, and when a hole shows up between stretches — no
//! ingest alive, or Postgres unreachable, for longer than the blind threshold — it moves every
//! later deadline by the hole's length and records the outage, so a restart brings no storm of
//! false alerts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Interval, Timestamptz};
use diesel_async::{AsyncConnection, RunQueryDsl};
use lifeline_domain::InstanceId;
use lifeline_settings::span;

use crate::schema::{coverage, ingest_beacons, outages};
use crate::{PgConn, StoreError, pg};

/// Records that ingest process `instance` can receive pings now — by Postgres's clock, the one
/// clock every process shares, so an ingest process whose own clock runs ahead cannot cover a
/// real outage. A beacon not written for longer than `blind_after` starts a new stretch: the
/// time between was not covered.
pub async fn beat(
    conn: &mut PgConn,
    instance: InstanceId,
    blind_after: Duration,
) -> Result<(), StoreError> {
    diesel::insert_into(ingest_beacons::table)
        .values((
            ingest_beacons::instance_id.eq(instance.as_uuid()),
            ingest_beacons::alive_since.eq(pg::now()),
            ingest_beacons::seen_at.eq(pg::now()),
        ))
        .on_conflict(ingest_beacons::instance_id)
        .do_update()
        .set((
            ingest_beacons::alive_since.eq(diesel::dsl::sql::<Timestamptz>(
                "CASE WHEN ingest_beacons.seen_at < now() - ",
            )
            .bind::<Interval, _>(pg::interval(span(blind_after)))
            .sql(" THEN excluded.alive_since ELSE ingest_beacons.alive_since END")),
            ingest_beacons::seen_at.eq(diesel::dsl::sql::<Timestamptz>(
                "greatest(ingest_beacons.seen_at, excluded.seen_at)",
            )),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// A hole in coverage that was closed: deadlines after `started_at` moved by its length.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = outages)]
pub struct Outage {
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub shifted_heartbeats: i64,
}

/// Where verified coverage stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coverage {
    /// Pings could be received continuously up to here: deadlines up to it can be decided.
    /// `None` when no ingest process has ever written a beacon.
    pub covered_until: Option<DateTime<Utc>>,
    /// Holes closed by this call.
    pub outages: Vec<Outage>,
    /// Postgres's clock when this was read: the "now" to judge coverage and deadlines by.
    pub now: DateTime<Utc>,
}

impl Coverage {
    /// Whether Lifeline is blind right now: no coverage for longer than `blind_after`.
    pub fn blind_at(&self, now: DateTime<Utc>, blind_after: Duration) -> bool {
        self.covered_until
            .is_none_or(|c| now - c > span(blind_after))
    }
}

/// Where verified coverage stands, without extending it (for health checks).
pub async fn current(conn: &mut PgConn) -> Result<Coverage, StoreError> {
    let (covered_until, now) = coverage::table
        .select((coverage::covered_until, pg::now()))
        .first(conn)
        .await?;
    Ok(Coverage {
        covered_until,
        outages: Vec::new(),
        now,
    })
}

/// Extends verified coverage from the beacons, closing any hole longer than `blind_after` by
/// shifting the deadlines that fell after its start. Serialised across scheduler replicas by the
/// single `coverage` row, so each hole is closed (and deadlines shifted) exactly once.
pub async fn advance(conn: &mut PgConn, blind_after: Duration) -> Result<Coverage, StoreError> {
    let tolerance = span(blind_after);
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let (covered, now): (Option<DateTime<Utc>>, DateTime<Utc>) = coverage::table
            .select((coverage::covered_until, pg::now()))
            .for_update()
            .first(conn)
            .await?;
        let mut newer = ingest_beacons::table
            .select((ingest_beacons::alive_since, ingest_beacons::seen_at))
            .into_boxed();
        if let Some(covered) = covered {
            newer = newer.filter(ingest_beacons::seen_at.gt(covered));
        }
        let mut stretches: Vec<(DateTime<Utc>, DateTime<Utc>)> = newer.load(conn).await?;
        stretches.sort_unstable();
        let Some(mut frontier) = covered.or(stretches.iter().map(|s| s.0).next()) else {
            return Ok(Coverage {
                covered_until: None,
                outages: Vec::new(),
                now,
            });
        };
        let mut closed = Vec::new();
        for (alive_since, seen_at) in stretches {
            if alive_since > frontier + tolerance {
                closed.push(close_hole(conn, frontier, alive_since).await?);
            }
            frontier = frontier.max(seen_at);
        }
        if covered != Some(frontier) {
            diesel::update(coverage::table)
                .set(coverage::covered_until.eq(frontier))
                .execute(conn)
                .await?;
        }
        Ok(Coverage {
            covered_until: Some(frontier),
            outages: closed,
            now,
        })
    })
    .await
}

async fn close_hole(
    conn: &mut PgConn,
    started_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
) -> Result<Outage, StoreError> {
    let gap = pg::interval(ended_at - started_at);
    let shifted = diesel::sql_query(
        "UPDATE heartbeats SET due_at = due_at + $1, alert_at = alert_at + $1, \
         started_at = started_at + $1, last_progress_at = last_progress_at + $1, \
         next_check_at = next_check_at + $1 WHERE next_check_at > $2",
    )
    .bind::<Interval, _>(gap)
    .bind::<Timestamptz, _>(started_at)
    .execute(conn)
    .await?;
    let shifted_heartbeats = i64::try_from(shifted).unwrap_or(i64::MAX);
    diesel::insert_into(outages::table)
        .values((
            outages::started_at.eq(started_at),
            outages::ended_at.eq(ended_at),
            outages::shifted_heartbeats.eq(shifted_heartbeats),
        ))
        .execute(conn)
        .await?;
    // Logged by the scheduler, which knows whether the hole is an outage it lived through or
    // the time before it started.
    Ok(Outage {
        started_at,
        ended_at,
        shifted_heartbeats,
    })
}

/// Forgets beacons of processes gone for a day (their stretches are long verified).
pub async fn prune_beacons(conn: &mut PgConn, now: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        ingest_beacons::table.filter(ingest_beacons::seen_at.lt(now - chrono::Duration::days(1))),
    )
    .execute(conn)
    .await?)
}

/// Recorded outages, newest first.
pub async fn recent_outages(conn: &mut PgConn, limit: i64) -> Result<Vec<Outage>, StoreError> {
    Ok(outages::table
        .order(outages::started_at.desc())
        .limit(limit)
        .select(Outage::as_select())
        .load(conn)
        .await?)
}

/// Recorded outages that overlap `[from, to)`, newest first, at most `limit`. Outages are
/// Lifeline's own, not a team's data, so any page may show them; the caller passes a window
/// within the plan's history so that a team sees no further back than its pings.
pub async fn outages_between(
    conn: &mut PgConn,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Outage>, StoreError> {
    Ok(outages::table
        .filter(outages::started_at.lt(to))
        .filter(outages::ended_at.gt(from))
        .order(outages::started_at.desc())
        .limit(limit)
        .select(Outage::as_select())
        .load(conn)
        .await?)
}
