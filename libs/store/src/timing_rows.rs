//! The timing columns of heartbeat rows: read into the domain's [`HeartbeatTiming`] (the one
//! place that knows their meaning) and written back in bulk. The ping write path, the scheduler
//! and operator changes all lock a set of heartbeats, let the domain decide, and write the new
//! timing in one aggregated `UPDATE … FROM unnest(…)`.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use lifeline_domain::{HeartbeatId, HeartbeatTiming, RunLimits, Schedule, TeamId};

use crate::label::stored;
use crate::schema::heartbeats;
use crate::{PgConn, StoreError};

/// The columns of a heartbeat that the domain's timing rules read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = heartbeats)]
pub(crate) struct TimingFields {
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

impl TryFrom<&TimingFields> for HeartbeatTiming {
    type Error = StoreError;

    fn try_from(row: &TimingFields) -> Result<Self, StoreError> {
        let invalid = |e: &dyn std::fmt::Display| StoreError::Invalid(format!("in storage: {e}"));
        let schedule = Schedule::from_secs(row.interval_secs.into(), row.grace_secs.into())
            .map_err(|e| invalid(&e))?;
        Ok(HeartbeatTiming {
            status: stored(&row.status)?,
            cadence: schedule.into(),
            limits: RunLimits::from_secs(
                row.max_runtime_secs.map(i64::from),
                row.progress_timeout_secs.map(i64::from),
            )
            .map_err(|e| invalid(&e))?,
            last_ping_at: row.last_ping_at,
            started_at: row.started_at,
            last_progress_at: row.last_progress_at,
            due_at: row.due_at,
            alert_at: row.alert_at,
        })
    }
}

/// A heartbeat's identity and timing, as the write paths lock it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = heartbeats)]
pub(crate) struct TimingRow {
    id: uuid::Uuid,
    team_id: uuid::Uuid,
    #[diesel(embed)]
    fields: TimingFields,
}

impl TimingRow {
    pub fn heartbeat(&self) -> HeartbeatId {
        HeartbeatId::from_uuid(self.id)
    }

    pub fn team(&self) -> TeamId {
        TeamId::from_uuid(self.team_id)
    }

    pub fn timing(&self) -> Result<HeartbeatTiming, StoreError> {
        HeartbeatTiming::try_from(&self.fields)
    }
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
    pub fn of<'a>(rows: impl ExactSizeIterator<Item = (HeartbeatId, &'a HeartbeatTiming)>) -> Self {
        let n = rows.len();
        let mut columns = TimingColumns {
            id: Vec::with_capacity(n),
            status: Vec::with_capacity(n),
            times: std::array::from_fn(|_| Vec::with_capacity(n)),
        };
        for (id, t) in rows {
            columns.id.push(id.as_uuid());
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
