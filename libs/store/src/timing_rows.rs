//! The timing columns of heartbeat rows: read into the domain's [`HeartbeatTiming`] (the one
//! place that knows their meaning) and written back in bulk. The ping write path, the scheduler
//! and operator changes all lock a set of heartbeats, let the domain decide, and write the new
//! timing in one aggregated `UPDATE … FROM unnest(…)`.
//!
//! An AI heartbeat's learned expectations live on the row as instants of the current period
//! (`expected_by`, `due_at` the warning, `alert_at` down) plus `run_warning_secs`; read back they
//! are offsets from the last ping again, so a ping that brings no new model keeps them. While
//! a job that sends start pings has not started its next run, `due_at` is the warning for a run
//! that does not start, with `start_expected_by` and the success's own warning `finish_due_at`
//! beside it.

use chrono::{DateTime, Duration, Utc};
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Bool, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use lifeline_domain::{
    Cadence, HeartbeatId, HeartbeatMode, HeartbeatTiming, LearnedCadence, RunLimits, Schedule,
    StartExpectation, TeamId,
};

use crate::label::stored;
use crate::row_address::{HeartbeatAddress, RowAddress, Tid};
use crate::schema::heartbeats;
use crate::{PgConn, StoreError};

/// The columns of a heartbeat that the domain's timing rules read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = heartbeats)]
pub(crate) struct TimingFields {
    status: String,
    mode: String,
    interval_secs: i32,
    grace_secs: i32,
    max_runtime_secs: Option<i32>,
    progress_timeout_secs: Option<i32>,
    last_ping_at: Option<DateTime<Utc>>,
    started_at: Option<DateTime<Utc>>,
    last_progress_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    alert_at: Option<DateTime<Utc>>,
    expected_by: Option<DateTime<Utc>>,
    run_warning_secs: Option<i32>,
    start_expected_by: Option<DateTime<Utc>>,
    finish_due_at: Option<DateTime<Utc>>,
}

impl TryFrom<&TimingFields> for HeartbeatTiming {
    type Error = StoreError;

    fn try_from(row: &TimingFields) -> Result<Self, StoreError> {
        let invalid = |e: &dyn std::fmt::Display| StoreError::Invalid(format!("in storage: {e}"));
        let schedule = Schedule::from_secs(row.interval_secs.into(), row.grace_secs.into())
            .map_err(|e| invalid(&e))?;
        let mode: HeartbeatMode = stored(&row.mode)?;
        Ok(HeartbeatTiming {
            status: stored(&row.status)?,
            cadence: row.cadence(mode, schedule),
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

impl TimingFields {
    /// The learned cadence of an AI heartbeat whose current period has learned deadlines, else
    /// the fixed schedule: in fixed mode, in AI mode until a model exists, and for a down AI
    /// heartbeat (no deadlines left; its next ping brings fresh expectations).
    fn cadence(&self, mode: HeartbeatMode, fixed: Schedule) -> Cadence {
        self.learned(mode, fixed)
            .map_or(Cadence::Fixed(fixed), Cadence::Learned)
    }

    fn learned(&self, mode: HeartbeatMode, fixed: Schedule) -> Option<LearnedCadence> {
        if mode != HeartbeatMode::Ai {
            return None;
        }
        let last = self.last_ping_at?;
        let (expected_by, due_at, alert_at) = (self.expected_by?, self.due_at?, self.alert_at?);
        let start = self.start_expected_by.map(|start_by| StartExpectation {
            expected_by: start_by - last,
            warn_after: due_at - last,
        });
        let warn_at = match start {
            Some(_) => self.finish_due_at.unwrap_or(due_at),
            None => due_at,
        };
        match LearnedCadence::new(expected_by - last, warn_at - last, alert_at - last, fixed) {
            Ok(learned) => Some(
                learned
                    .with_run_warning(
                        self.run_warning_secs
                            .map(|secs| Duration::seconds(secs.into())),
                    )
                    .with_start(start),
            ),
            // Not an unknown word but instants out of order (or stretched past 400 days by an
            // outage shift). The stored deadlines still hold; only the next ping's offsets fall
            // back to the fixed schedule. Failing here instead would stall every deadline and
            // ping batch that touches this row.
            Err(e) => {
                tracing::warn!(error = %e, "learned deadlines out of order; using the fixed schedule");
                None
            }
        }
    }
}

/// The zone a heartbeat's local times are in: its own, else its team's (`teams.time_zone`).
/// A scalar subquery rather than a join, so that the write paths' `FOR UPDATE` locks only the
/// heartbeat rows, never their team's; a typed expression rather than `sql()`, whose statements
/// diesel never caches (the ping path runs this once per batch).
#[derive(Clone, Copy, Debug, QueryId, ValidGrouping)]
pub(crate) struct EffectiveZone;

impl Expression for EffectiveZone {
    type SqlType = Text;
}

impl QueryFragment<Pg> for EffectiveZone {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "coalesce(\"heartbeats\".\"time_zone\", (SELECT t.time_zone FROM teams t \
             WHERE t.id = \"heartbeats\".\"team_id\"))",
        );
        Ok(())
    }
}

impl AppearsOnTable<heartbeats::table> for EffectiveZone {}
impl SelectableExpression<heartbeats::table> for EffectiveZone {}

/// [`EffectiveZone`] for heartbeats in AI mode, and `''` for the others: only a learned cadence
/// warns, and only a warning is worded in a zone. The write paths lock hundreds of rows at once
/// (a ping batch, a deadline pass), and most are in fixed mode: they skip the team lookup.
#[derive(Clone, Copy, Debug, QueryId, ValidGrouping)]
pub(crate) struct WarningZone;

impl Expression for WarningZone {
    type SqlType = Text;
}

impl QueryFragment<Pg> for WarningZone {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("CASE WHEN \"heartbeats\".\"mode\" = '");
        out.push_sql(HeartbeatMode::Ai.as_str());
        out.push_sql("' THEN ");
        EffectiveZone.walk_ast(out.reborrow())?;
        out.push_sql(" ELSE '' END");
        Ok(())
    }
}

impl AppearsOnTable<heartbeats::table> for WarningZone {}
impl SelectableExpression<heartbeats::table> for WarningZone {}

/// A heartbeat's identity and timing, as the write paths lock it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = heartbeats)]
pub(crate) struct TimingRow {
    #[diesel(select_expression = HeartbeatAddress, select_expression_type = HeartbeatAddress)]
    address: RowAddress,
    id: uuid::Uuid,
    team_id: uuid::Uuid,
    #[diesel(embed)]
    fields: TimingFields,
    #[diesel(select_expression = WarningZone, select_expression_type = WarningZone)]
    zone: String,
}

impl TimingRow {
    pub fn heartbeat(&self) -> HeartbeatId {
        HeartbeatId::from_uuid(self.id)
    }

    pub fn team(&self) -> TeamId {
        TeamId::from_uuid(self.team_id)
    }

    /// Where the row version read is stored: good for updating it while the caller's
    /// transaction holds it locked and has not updated it yet.
    pub fn address(&self) -> RowAddress {
        self.address
    }

    pub fn timing(&self) -> Result<HeartbeatTiming, StoreError> {
        HeartbeatTiming::try_from(&self.fields)
    }

    /// The name of the zone its warnings speak in (read when a warning is written; empty for a
    /// heartbeat in fixed mode, which has none to write).
    pub fn zone(&self) -> &str {
        &self.zone
    }

    /// The zone's name, taken out of the row (the ping path keeps it and drops the row).
    pub fn take_zone(&mut self) -> String {
        std::mem::take(&mut self.zone)
    }

    /// Whether the heartbeat is in AI mode: only then does a model's expectation apply.
    pub fn ai_mode(&self) -> bool {
        self.fields.mode == HeartbeatMode::Ai.as_str()
    }
}

/// The new timing of a set of heartbeats, for one aggregated `UPDATE … FROM unnest(…)`.
/// A hand-written statement rather than `sql_query`: diesel never caches the prepared statement
/// of a `sql_query`, and the ping path runs this once per batch.
pub(crate) struct TimingColumns {
    /// `NextCheck::KeepEarlier`, as the statement's parameter.
    keep_earlier: bool,
    /// The rows' addresses when every row has one (locked and not updated since): the
    /// statement then fetches the rows by address, else by primary key.
    address: Option<Vec<RowAddress>>,
    id: Vec<uuid::Uuid>,
    status: Vec<&'static str>,
    times: [Vec<Option<DateTime<Utc>>>; 9],
    run_warning_secs: Vec<Option<i32>>,
}

const TIME_COLUMNS: [&str; 9] = [
    "last_ping_at",
    "started_at",
    "last_progress_at",
    "due_at",
    "alert_at",
    "next_check_at",
    "expected_by",
    "start_expected_by",
    "finish_due_at",
];

impl TimingColumns {
    pub fn of<'a>(
        rows: impl ExactSizeIterator<Item = (HeartbeatId, Option<RowAddress>, &'a HeartbeatTiming)>,
        next_check: NextCheck,
    ) -> Self {
        let n = rows.len();
        let mut columns = TimingColumns {
            keep_earlier: next_check == NextCheck::KeepEarlier,
            address: Some(Vec::with_capacity(n)),
            id: Vec::with_capacity(n),
            status: Vec::with_capacity(n),
            times: std::array::from_fn(|_| Vec::with_capacity(n)),
            run_warning_secs: Vec::with_capacity(n),
        };
        for (id, address, t) in rows {
            match (address, &mut columns.address) {
                (Some(address), Some(addresses)) => addresses.push(address),
                _ => columns.address = None,
            }
            columns.id.push(id.as_uuid());
            columns.status.push(t.status.as_str());
            let learned = Learned::of(t);
            let values = [
                t.last_ping_at,
                t.started_at,
                t.last_progress_at,
                t.due_at,
                t.alert_at,
                t.next_check_at(),
                learned.expected_by,
                learned.start_expected_by,
                learned.finish_due_at,
            ];
            for (column, value) in columns.times.iter_mut().zip(values) {
                column.push(value);
            }
            columns.run_warning_secs.push(learned.run_warning_secs);
        }
        columns
    }

    pub async fn write(self, mut conn: &PgConn) -> Result<(), StoreError> {
        if self.id.is_empty() {
            return Ok(());
        }
        let rows = self.id.len();
        let updated = self.execute(&mut conn).await?;
        // Every row is locked by the caller, so none can be missing, unless an address was
        // used past its validity: fail the transaction rather than lose a decision.
        if updated != rows {
            return Err(StoreError::Invalid(format!(
                "timing written to {updated} of {rows} heartbeats"
            )));
        }
        Ok(())
    }
}

/// How `next_check_at`, the scheduler's index, is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NextCheck {
    /// The timing's next check.
    Exact,
    /// The stored one where it is earlier: the deadline pass then finds nothing due and stores
    /// the exact one (see `DecidedBy::Pings`). Never later than the timing's, and `NULL` when
    /// the timing has none.
    KeepEarlier,
}

/// The learned columns of one row: set for a learned cadence with a last ping to count from,
/// NULL otherwise (fixed mode, no model yet, or the model went away).
struct Learned {
    expected_by: Option<DateTime<Utc>>,
    run_warning_secs: Option<i32>,
    start_expected_by: Option<DateTime<Utc>>,
    finish_due_at: Option<DateTime<Utc>>,
}

impl Learned {
    fn of(t: &HeartbeatTiming) -> Self {
        match (t.cadence.learned(), t.last_ping_at) {
            (Some(learned), Some(last)) => Learned {
                expected_by: Some(last + learned.expected_by()),
                // The domain bounds it by 400 days, far inside an i32 of seconds.
                run_warning_secs: learned
                    .run_warning_after()
                    .map(|d| i32::try_from(d.num_seconds()).unwrap_or(i32::MAX)),
                start_expected_by: learned.start().map(|s| last + s.expected_by),
                finish_due_at: learned.start().map(|_| last + learned.warn_after()),
            },
            _ => Learned {
                expected_by: None,
                run_warning_secs: None,
                start_expected_by: None,
                finish_due_at: None,
            },
        }
    }
}

impl QueryFragment<Pg> for TimingColumns {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("UPDATE heartbeats h SET status = u.status");
        for c in TIME_COLUMNS {
            if c == "next_check_at" {
                // One statement text for both ways, so it is prepared once.
                out.push_sql(", next_check_at = CASE WHEN ");
                out.push_bind_param::<Bool, _>(&self.keep_earlier)?;
                out.push_sql(
                    " AND h.next_check_at <= u.next_check_at \
                     THEN h.next_check_at ELSE u.next_check_at END",
                );
            } else {
                out.push_sql(&format!(", {c} = u.{c}"));
            }
        }
        out.push_sql(", run_warning_secs = u.run_warning_secs FROM unnest(");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.status)?;
        for column in &self.times {
            out.push_sql(", ");
            out.push_bind_param::<Array<Nullable<Timestamptz>>, _>(column)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Int4>>, _>(&self.run_warning_secs)?;
        out.push_sql(&format!(
            ") AS u(id, status, {}, run_warning_secs) WHERE ",
            TIME_COLUMNS.join(", ")
        ));
        // By address: one TID scan fetches exactly the rows (`ctid = ANY`), which a hash join
        // then matches to their new timing by id.
        if let Some(address) = &self.address {
            out.push_sql("h.ctid = ANY(");
            out.push_bind_param::<Array<Tid>, _>(address)?;
            out.push_sql(") AND ");
        }
        out.push_sql("h.id = u.id");
        Ok(())
    }
}

// Two statement texts (by address, by key): diesel caches each prepared statement under its
// text, as it cannot under one static id.
impl QueryId for TimingColumns {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}
