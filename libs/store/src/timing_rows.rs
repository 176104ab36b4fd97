//! Reading and writing the timing columns of heartbeat rows in bulk. The ping write path and the
//! scheduler both lock a set of heartbeats, apply the domain rules in Rust, and write the new
//! timing back in one aggregated `UPDATE … FROM unnest(…)`.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use lifeline_domain::{HeartbeatTiming, RunLimits, Schedule};

use crate::heartbeats::parse_status;
use crate::schema::heartbeats;
use crate::{PgConn, StoreError};

/// The columns of a heartbeat that the domain's timing rules read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = heartbeats)]
pub(crate) struct TimingRow {
    pub id: uuid::Uuid,
    pub team_id: uuid::Uuid,
    status: String,
    interval_secs: i32,
    grace_secs: i32,
    max_runtime_secs: Option<i32>,
    progress_timeout_secs: Option<i32>,
    last_ping_at: Option<DateTime<Utc>>,
    started_at: Option<DateTime<Utc>>,
    last_progress_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    alert_at: Option<DateTime<Utc>>,
}

impl TimingRow {
    pub fn timing(&self) -> Result<HeartbeatTiming, StoreError> {
        timing_of(
            &self.status,
            (self.interval_secs, self.grace_secs),
            (self.max_runtime_secs, self.progress_timeout_secs),
            [
                self.last_ping_at,
                self.started_at,
                self.last_progress_at,
                self.due_at,
                self.alert_at,
            ],
        )
    }
}

/// Builds the domain timing from stored columns; the one place that knows their meaning.
/// `times` are last ping, start, last progress, due and alert.
pub(crate) fn timing_of(
    status: &str,
    (interval_secs, grace_secs): (i32, i32),
    (max_runtime_secs, progress_timeout_secs): (Option<i32>, Option<i32>),
    [last_ping_at, started_at, last_progress_at, due_at, alert_at]: [Option<DateTime<Utc>>; 5],
) -> Result<HeartbeatTiming, StoreError> {
    let invalid = |e: String| StoreError::Invalid(e);
    Ok(HeartbeatTiming {
        status: parse_status(status)?,
        schedule: Schedule::from_secs(interval_secs.into(), grace_secs.into())
            .map_err(|e| invalid(e.to_string()))?,
        limits: RunLimits::from_secs(
            max_runtime_secs.map(i64::from),
            progress_timeout_secs.map(i64::from),
        )
        .map_err(|e| invalid(e.to_string()))?,
        last_ping_at,
        started_at,
        last_progress_at,
        due_at,
        alert_at,
    })
}

/// The new timing of a set of heartbeats, for one aggregated `UPDATE … FROM unnest(…)`.
/// A hand-written statement rather than `sql_query`: diesel never caches the prepared statement
/// of a `sql_query`, and the ping path runs this once per batch.
pub(crate) struct TimingColumns {
    id: Vec<uuid::Uuid>,
    status: Vec<&'static str>,
    times: [Vec<Option<DateTime<Utc>>>; 6],
}

const TIME_COLUMNS: [&str; 6] = [
    "last_ping_at",
    "started_at",
    "last_progress_at",
    "due_at",
    "alert_at",
    "next_check_at",
];

impl TimingColumns {
    pub fn of<'a>(rows: impl ExactSizeIterator<Item = (uuid::Uuid, &'a HeartbeatTiming)>) -> Self {
        let n = rows.len();
        let mut columns = TimingColumns {
            id: Vec::with_capacity(n),
            status: Vec::with_capacity(n),
            times: std::array::from_fn(|_| Vec::with_capacity(n)),
        };
        for (id, t) in rows {
            columns.id.push(id);
            columns.status.push(t.status.as_str());
            let values = [
                t.last_ping_at,
                t.started_at,
                t.last_progress_at,
                t.due_at,
                t.alert_at,
                t.next_check_at(),
            ];
            for (column, value) in columns.times.iter_mut().zip(values) {
                column.push(value);
            }
        }
        columns
    }

    pub async fn write(self, mut conn: &PgConn) -> Result<(), StoreError> {
        if self.id.is_empty() {
            return Ok(());
        }
        self.execute(&mut conn).await?;
        Ok(())
    }
}

impl QueryFragment<Pg> for TimingColumns {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("UPDATE heartbeats h SET status = u.status");
        for c in TIME_COLUMNS {
            out.push_sql(&format!(", {c} = u.{c}"));
        }
        out.push_sql(" FROM unnest(");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.status)?;
        for column in &self.times {
            out.push_sql(", ");
            out.push_bind_param::<Array<Nullable<Timestamptz>>, _>(column)?;
        }
        out.push_sql(&format!(
            ") AS u(id, status, {}) WHERE h.id = u.id",
            TIME_COLUMNS.join(", ")
        ));
        Ok(())
    }
}

impl QueryId for TimingColumns {
    type QueryId = TimingColumns;
    const HAS_STATIC_QUERY_ID: bool = true;
}
