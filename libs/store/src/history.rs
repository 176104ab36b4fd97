//! A heartbeat's history as its detail page and the management API show it: the ping log a page
//! at a time, the timeline chart's marks (one per ping, or one per time bucket and kind when a
//! range holds too many pings to draw), the gaps between pings, and the incidents overlapping a
//! range. Every query here is scoped by the team and stops at the plan's retention cut-off, so a
//! team never sees further back than it pays for, whatever the purge has not yet deleted.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, SmallInt, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use lifeline_domain::{HeartbeatId, PingKind};

use crate::coverage::{self, Outage};
use crate::heartbeats::{self, StatusChangeEntry};
use crate::incidents::{Incident, IncidentRow};
use crate::label::stored;
use crate::pings::{Ping, PingRow, visible};
use crate::schema::{incidents, pings};
use crate::{PgConn, StoreError, TeamScope};

/// The most pings one page of the log returns.
pub const MAX_PAGE: i64 = 500;

/// Where a page of the ping log ends: the `(received_at, id)` of its last (oldest) row. The next
/// page holds the pings strictly before it in that order, which stays right while new pings
/// arrive (they are newer) and when two pings share a timestamp (the id breaks the tie).
///
/// As text it is opaque to callers (`<microseconds since the epoch>_<id>`), for `?before=` on the
/// page and `?cursor=` in the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PingCursor {
    pub received_at: DateTime<Utc>,
    pub id: i64,
}

impl PingCursor {
    /// The cursor just after `ping` (the next page starts with the ping older than it).
    pub fn after(ping: &Ping) -> Self {
        Self {
            received_at: ping.received_at,
            id: ping.id,
        }
    }
}

impl fmt::Display for PingCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.received_at.timestamp_micros(), self.id)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a ping cursor: use the cursor that the previous page gave")]
pub struct BadCursor(pub String);

impl FromStr for PingCursor {
    type Err = BadCursor;

    fn from_str(s: &str) -> Result<Self, BadCursor> {
        let bad = || BadCursor(s.chars().take(64).collect());
        let (micros, id) = s.trim().split_once('_').ok_or_else(bad)?;
        let micros: i64 = micros.parse().map_err(|_| bad())?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        let received_at = DateTime::from_timestamp_micros(micros).ok_or_else(bad)?;
        Ok(Self { received_at, id })
    }
}

/// One page of the heartbeat's pings, newest first: at most `limit` (1 to [`MAX_PAGE`]) pings
/// strictly older than `before` (from the newest when `None`), and the cursor of the next page
/// when older pings remain. Keyset pagination on `(received_at, id)` walks the
/// `(heartbeat_id, received_at DESC)` index, so a deep page costs what the first one does.
pub async fn pings_page(
    conn: &mut PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
    before: Option<PingCursor>,
    limit: i64,
) -> Result<(Vec<Ping>, Option<PingCursor>), StoreError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let mut query = visible(scope, heartbeat);
    if let Some(c) = before {
        // `received_at <= t` bounds the index scan; the second condition drops the cursor's own
        // row and the rows sharing its timestamp that came before it on the previous page.
        query = query
            .filter(pings::received_at.le(c.received_at))
            .filter(pings::received_at.lt(c.received_at).or(pings::id.lt(c.id)));
    }
    let mut rows: Vec<Ping> = query
        .order((pings::received_at.desc(), pings::id.desc()))
        .limit(limit + 1)
        .select(PingRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Ping::try_from)
        .collect::<Result<_, _>>()?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(PingCursor::after)
    } else {
        None
    };
    Ok((rows, next))
}

/// What the timeline chart asks for.
#[derive(Clone, Copy, Debug)]
pub struct TimelineQuery {
    /// The range shown, `[from, to)`; `from` is moved up to the plan's cut-off if older.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Up to this many pings are drawn one mark each; more are counted per bucket.
    pub raw_limit: i64,
    /// The bucket width used beyond `raw_limit` (at least a second).
    pub bucket: Duration,
    /// A stretch without any ping longer than this is a gap (the heartbeat's interval + grace).
    pub gap_after: Duration,
}

/// One mark of the chart: a single ping, or every ping of one kind in one bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub kind: PingKind,
    /// Where the mark is drawn: the ping's time, or its bucket's start.
    pub at: DateTime<Utc>,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub count: i64,
    /// The exit code a single ping reported.
    pub exit_code: Option<i16>,
}

/// A stretch with no ping at all, longer than the query's `gap_after`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    /// The last ping before the gap (possibly before the range).
    pub from: DateTime<Utc>,
    /// The first ping after it, or the end of the range when none came yet.
    pub to: DateTime<Utc>,
}

/// The chart's data over one range.
#[derive(Clone, Debug)]
pub struct Timeline {
    /// The range actually covered (its start never before the plan's cut-off).
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The bucket width when the pings were counted per bucket; `None`: one mark per ping.
    pub bucket: Option<Duration>,
    /// How many pings the range holds.
    pub pings: i64,
    /// In time order.
    pub marks: Vec<Mark>,
    pub gaps: Vec<Gap>,
}

#[derive(Queryable)]
struct RawMark {
    kind: String,
    received_at: DateTime<Utc>,
    exit_code: Option<i16>,
}

#[derive(QueryableByName)]
struct BucketRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Timestamptz)]
    bucket_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    first_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    last_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Nullable<SmallInt>)]
    exit_code: Option<i16>,
}

#[derive(QueryableByName)]
struct GapRow {
    #[diesel(sql_type = Timestamptz)]
    gap_start: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    gap_end: DateTime<Utc>,
}

/// The timeline of one heartbeat over a range: its pings drawn one by one when there are at most
/// `raw_limit` of them, otherwise counted in SQL per bucket and kind, so the page stays light
/// whatever the range; and the gaps between pings.
pub async fn timeline(
    conn: &mut PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
    q: TimelineQuery,
) -> Result<Timeline, StoreError> {
    let cutoff = scope.plan().retention_cutoff(Utc::now());
    let from = q.from.max(cutoff);
    let to = q.to.max(from);
    let raw: Vec<RawMark> = visible(scope, heartbeat)
        .filter(pings::received_at.ge(from))
        .filter(pings::received_at.lt(to))
        .order(pings::received_at)
        .limit(q.raw_limit.max(0) + 1)
        .select((pings::kind, pings::received_at, pings::exit_code))
        .load(conn)
        .await?;
    let (bucket, marks) = if raw.len() as i64 <= q.raw_limit {
        let marks = raw
            .into_iter()
            .map(|r| {
                Ok(Mark {
                    kind: stored(&r.kind)?,
                    at: r.received_at,
                    first_at: r.received_at,
                    last_at: r.received_at,
                    count: 1,
                    exit_code: r.exit_code,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        (None, marks)
    } else {
        let width = q.bucket.max(Duration::seconds(1));
        (
            Some(width),
            buckets(conn, scope, heartbeat, from, to, width).await?,
        )
    };
    let pings = marks.iter().map(|m| m.count).sum();
    let gaps = gaps(conn, scope, heartbeat, from, to, cutoff, q.gap_after).await?;
    Ok(Timeline {
        from,
        to,
        bucket,
        pings,
        marks,
        gaps,
    })
}

/// Pings per bucket and kind. Buckets are aligned on the epoch (so on UTC minutes, hours and
/// days for such widths), which keeps them stable from one page load to the next.
async fn buckets(
    conn: &mut PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    width: Duration,
) -> Result<Vec<Mark>, StoreError> {
    let rows: Vec<BucketRow> = diesel::sql_query(
        // date_bin works on the timestamps themselves; `extract(epoch …)` would compute a
        // numeric per row, which on a year of pings costs more than the rest of the query.
        "SELECT kind, b AS bucket_at, min(received_at) AS first_at, \
                max(received_at) AS last_at, count(*) AS n, \
                CASE WHEN count(*) = 1 THEN min(exit_code) END AS exit_code \
         FROM (SELECT kind, received_at, exit_code, \
                      date_bin(make_interval(secs => $5), received_at, 'epoch'::timestamptz) AS b \
               FROM pings \
               WHERE team_id = $1 AND heartbeat_id = $2 \
                 AND received_at >= $3 AND received_at < $4) p \
         GROUP BY kind, b \
         ORDER BY b, kind",
    )
    .bind::<SqlUuid, _>(scope.team_id().as_uuid())
    .bind::<SqlUuid, _>(heartbeat.as_uuid())
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .bind::<Double, _>(width.num_milliseconds() as f64 / 1000.0)
    .load(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Mark {
                kind: stored(&r.kind)?,
                at: r.bucket_at,
                first_at: r.first_at,
                last_at: r.last_at,
                count: r.n,
                exit_code: r.exit_code,
            })
        })
        .collect()
}

/// Stretches without any ping longer than `gap_after`: between consecutive pings of the range,
/// from the last ping before the range (within the cut-off) to the first in it, and from the
/// last ping to the range's end.
async fn gaps(
    conn: &mut PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    gap_after: Duration,
) -> Result<Vec<Gap>, StoreError> {
    let rows: Vec<GapRow> = diesel::sql_query(
        // Each ping and the next one after it (or the range's end for the newest), in the
        // index's own order, so the window needs no sort; the rows start at the last ping
        // before the range, for the gap that runs into it.
        "SELECT gap_start, gap_end FROM ( \
           SELECT received_at AS gap_start, \
                  lag(received_at, 1, $4) OVER (ORDER BY received_at DESC) AS gap_end \
           FROM pings \
           WHERE team_id = $1 AND heartbeat_id = $2 AND received_at < $4 \
             AND received_at >= coalesce( \
               (SELECT max(received_at) FROM pings \
                WHERE team_id = $1 AND heartbeat_id = $2 \
                  AND received_at < $3 AND received_at >= $5), $3)) g \
         WHERE gap_end - gap_start > make_interval(secs => $6) \
         ORDER BY gap_start",
    )
    .bind::<SqlUuid, _>(scope.team_id().as_uuid())
    .bind::<SqlUuid, _>(heartbeat.as_uuid())
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .bind::<Timestamptz, _>(cutoff)
    .bind::<Double, _>(gap_after.num_milliseconds() as f64 / 1000.0)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Gap {
            from: r.gap_start,
            to: r.gap_end,
        })
        .collect())
}

/// The heartbeat's incidents that overlap `[from, to)`, oldest first, at most `limit`, under the
/// same visibility as `incidents::history`: an open incident always shows, a closed one only if
/// it opened within the plan's history.
pub async fn incidents_between(
    conn: &mut PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Incident>, StoreError> {
    let cutoff = scope.plan().retention_cutoff(Utc::now());
    incidents::table
        .filter(incidents::team_id.eq(scope.team_id().as_uuid()))
        .filter(incidents::heartbeat_id.eq(heartbeat.as_uuid()))
        .filter(incidents::opened_at.lt(to))
        .filter(
            incidents::resolved_at.is_null().or(incidents::resolved_at
                .ge(from)
                .and(incidents::opened_at.ge(cutoff))),
        )
        .order(incidents::opened_at)
        .limit(limit)
        .select(IncidentRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Incident::try_from)
        .collect()
}

/// Incidents and outages drawn on one chart at most (a flapping heartbeat over a year could have
/// more; the newest-first lists below the chart are shorter still).
pub const CHART_BANDS: i64 = 500;

/// What a heartbeat's detail page asks for.
#[derive(Clone, Copy, Debug)]
pub struct OverviewQuery {
    pub timeline: TimelineQuery,
    /// The log page: pings before this cursor (the newest when `None`), `log_limit` of them.
    pub before: Option<PingCursor>,
    pub log_limit: i64,
    /// How many incidents, status changes and outages the lists below the chart show.
    pub listed: i64,
}

/// Everything a heartbeat's detail page shows of its history, each part within the plan's
/// retention.
#[derive(Clone, Debug)]
pub struct Overview {
    pub timeline: Timeline,
    /// Incidents and outages overlapping the chart's range, oldest first.
    pub chart_incidents: Vec<Incident>,
    pub chart_outages: Vec<Outage>,
    pub log: Vec<Ping>,
    /// The cursor of the next (older) log page.
    pub older: Option<PingCursor>,
    /// The newest incidents, status changes and outages (since the cut-off).
    pub incidents: Vec<Incident>,
    pub statuses: Vec<StatusChangeEntry>,
    pub outages: Vec<Outage>,
}

/// Reads a heartbeat's history for its detail page, one query after the other on one connection
/// (the web benchmark times this call alone against the page that makes it).
pub async fn overview(
    conn: &mut PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
    q: OverviewQuery,
) -> Result<Overview, StoreError> {
    let now = q.timeline.to;
    let cutoff = scope.plan().retention_cutoff(now);
    let timeline = timeline(conn, scope, heartbeat, q.timeline).await?;
    let (from, to) = (timeline.from, timeline.to);
    let chart_incidents = incidents_between(conn, scope, heartbeat, from, to, CHART_BANDS).await?;
    let chart_outages = coverage::outages_between(conn, from, to, CHART_BANDS).await?;
    let (log, older) = pings_page(conn, scope, heartbeat, q.before, q.log_limit).await?;
    let incidents = crate::incidents::history(conn, scope, heartbeat, q.listed).await?;
    let statuses = heartbeats::status_history(conn, scope, heartbeat, q.listed).await?;
    // Outages are Lifeline's own, not the team's data, but shown only as far back as the
    // plan's history.
    let outages = coverage::outages_between(conn, cutoff, now, q.listed).await?;
    Ok(Overview {
        timeline,
        chart_incidents,
        chart_outages,
        log,
        older,
        incidents,
        statuses,
        outages,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_cursor_reads_back_what_it_wrote() {
        let c = PingCursor {
            received_at: DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap(),
            id: 42,
        };
        assert_eq!(c.to_string(), "1764000000123456_42");
        assert_eq!("1764000000123456_42".parse::<PingCursor>().unwrap(), c);
    }

    #[test]
    fn anything_else_is_not_a_cursor() {
        for bad in [
            "",
            "42",
            "_",
            "x_1",
            "1_x",
            "1_2_3",
            "99999999999999999999_1",
        ] {
            assert!(bad.parse::<PingCursor>().is_err(), "{bad:?}");
        }
    }
}
