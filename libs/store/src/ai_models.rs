//! AI heartbeats' models (`ai_models`) and the analyzer's work queue (`heartbeats.model_due_at`).
//!
//! The analyzer claims due heartbeats with `SKIP LOCKED` and pushes their `model_due_at` out by
//! a lease in the same statement, then commits before training: no lock is held while it reads
//! history and trains, and a process that dies mid-training leaves the heartbeat to the lease.
//! Saving a model locks the heartbeat row, writes the model and the heartbeat's recounted
//! deadlines (the domain's decision) and the next due time in one transaction.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Interval, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl};
use lifeline_domain::{Decision, HeartbeatId, HeartbeatTiming, PingKind, Schedule, TeamId};

use crate::decisions::{self, Decided, DecidedBy, committed};
use crate::label::stored;
use crate::schema::{ai_models, heartbeats, incidents, pings};
use crate::timing_rows::TimingRow;
use crate::{PgConn, StoreError, TeamScope, pg};

/// A stored model: its parameters are the cadence crate's JSON.
#[derive(Clone, Debug, PartialEq, Queryable, Selectable)]
#[diesel(table_name = ai_models)]
pub struct StoredModel {
    pub version: i32,
    pub trained_at: DateTime<Utc>,
    /// Pings trained on.
    pub samples: i32,
    pub window_from: DateTime<Utc>,
    pub window_until: DateTime<Utc>,
    pub params: serde_json::Value,
}

/// What the analyzer trains.
#[derive(Clone, Debug, PartialEq)]
pub struct NewModel {
    pub version: i32,
    pub trained_at: DateTime<Utc>,
    pub samples: i32,
    pub window_from: DateTime<Utc>,
    pub window_until: DateTime<Utc>,
    /// The usual window after a ping, in seconds (the typical gap's 5–95 %).
    pub window_low_secs: f64,
    pub window_high_secs: f64,
    pub params: serde_json::Value,
}

/// An `ai_models` row as written: inserted, or replacing the heartbeat's previous model.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = ai_models)]
struct ModelRow<'a> {
    heartbeat_id: uuid::Uuid,
    team_id: uuid::Uuid,
    version: i32,
    trained_at: DateTime<Utc>,
    samples: i32,
    window_low_secs: f64,
    window_high_secs: f64,
    params: &'a serde_json::Value,
    window_from: DateTime<Utc>,
    window_until: DateTime<Utc>,
}

/// A heartbeat claimed for training.
#[derive(Clone, Debug, PartialEq)]
pub struct Claimed {
    pub heartbeat: HeartbeatId,
    pub team: TeamId,
    /// The IANA zone it lives in: its own, else its team's.
    pub time_zone: String,
    pub schedule: Schedule,
    /// When its current model was trained, if it has one.
    pub trained_at: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct ClaimedRow {
    #[diesel(sql_type = SqlUuid)]
    id: uuid::Uuid,
    #[diesel(sql_type = SqlUuid)]
    team_id: uuid::Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    time_zone: String,
    #[diesel(sql_type = Integer)]
    interval_secs: i32,
    #[diesel(sql_type = Integer)]
    grace_secs: i32,
    #[diesel(sql_type = diesel::sql_types::Nullable<Timestamptz>)]
    trained_at: Option<DateTime<Utc>>,
}

/// Claims up to `limit` AI heartbeats whose training is due at `now`, pushing their due time
/// `lease` ahead so no other analyzer takes them meanwhile. Commits on its own.
pub async fn claim_due(
    mut conn: &PgConn,
    now: DateTime<Utc>,
    limit: i32,
    lease: Duration,
) -> Result<Vec<Claimed>, StoreError> {
    let rows: Vec<ClaimedRow> = diesel::sql_query(
        "WITH due AS ( \
           SELECT id FROM heartbeats \
           WHERE model_due_at <= $1 AND mode = 'ai' \
           ORDER BY model_due_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
         UPDATE heartbeats h SET model_due_at = $1 + $3 \
         FROM due, teams t \
         WHERE h.id = due.id AND t.id = h.team_id \
         RETURNING h.id, h.team_id, coalesce(h.time_zone, t.time_zone) AS time_zone, \
           h.interval_secs, h.grace_secs, \
           (SELECT m.trained_at FROM ai_models m WHERE m.heartbeat_id = h.id) AS trained_at",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<Integer, _>(limit)
    .bind::<Interval, _>(pg::interval(lease))
    .load(&mut conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Claimed {
                heartbeat: HeartbeatId::from_uuid(r.id),
                team: TeamId::from_uuid(r.team_id),
                time_zone: r.time_zone,
                schedule: Schedule::from_secs(r.interval_secs.into(), r.grace_secs.into())
                    .map_err(|e| StoreError::Invalid(format!("in storage: {e}")))?,
                trained_at: r.trained_at,
            })
        })
        .collect()
}

/// When the earliest AI heartbeat is due for training, for the analyzer's sleep.
pub async fn next_due(mut conn: &PgConn) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(heartbeats::table
        .filter(heartbeats::model_due_at.is_not_null())
        .filter(heartbeats::mode.eq("ai"))
        .select(diesel::dsl::min(heartbeats::model_due_at))
        .first(&mut conn)
        .await?)
}

/// One ping of the history a model learns from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrainingPing {
    pub at: DateTime<Utc>,
    pub kind: PingKind,
    pub body_size: u64,
}

/// The success, failure and start pings of a heartbeat from `from` on, in time order. Reads the
/// `(heartbeat_id, received_at)` index only as far as the window reaches.
pub async fn history(
    mut conn: &PgConn,
    heartbeat: HeartbeatId,
    from: DateTime<Utc>,
) -> Result<Vec<TrainingPing>, StoreError> {
    let rows: Vec<(DateTime<Utc>, String, i64)> = pings::table
        .filter(pings::heartbeat_id.eq(heartbeat.as_uuid()))
        .filter(pings::received_at.ge(from))
        .filter(pings::kind.ne("progress"))
        .order(pings::received_at.asc())
        .select((pings::received_at, pings::kind, pings::body_size))
        .load(&mut conn)
        .await?;
    rows.into_iter()
        .map(|(at, kind, size)| {
            Ok(TrainingPing {
                at,
                kind: stored(&kind)?,
                body_size: u64::try_from(size).unwrap_or(0),
            })
        })
        .collect()
}

/// The stretches a model must not learn from, since `from`: while a `down` incident was open
/// (unless the early warning of the same overdue period was marked expected), and while an
/// early warning not marked expected was open. As (from, until) pairs; an open one runs to now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnusualStretches {
    pub down: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pub warned: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

pub async fn unusual(
    mut conn: &PgConn,
    heartbeat: HeartbeatId,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<UnusualStretches, StoreError> {
    /// Kind, opened, resolved, marked expected.
    type Row = (
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Row> = incidents::table
        .filter(incidents::heartbeat_id.eq(heartbeat.as_uuid()))
        .filter(
            incidents::resolved_at
                .is_null()
                .or(incidents::resolved_at.ge(from)),
        )
        .order(incidents::opened_at.asc())
        .select((
            incidents::kind,
            incidents::opened_at,
            incidents::resolved_at,
            incidents::marked_expected_at,
        ))
        .load(&mut conn)
        .await?;
    let expected: Vec<(DateTime<Utc>, DateTime<Utc>)> = rows
        .iter()
        .filter(|(kind, _, _, marked)| kind == "early_warning" && marked.is_some())
        .map(|(_, opened, resolved, _)| (*opened, resolved.unwrap_or(now)))
        .collect();
    let mut stretches = UnusualStretches::default();
    for (kind, opened, resolved, marked) in &rows {
        let stretch = (*opened, resolved.unwrap_or(now));
        match kind.as_str() {
            "early_warning" if marked.is_none() => stretches.warned.push(stretch),
            // A down that followed a warning the team called expected is expected too: the
            // warning resolves (quietly) at the instant the down opens.
            "down" if !expected.iter().any(|(_, until)| *until == stretch.0) => {
                stretches.down.push(stretch)
            }
            _ => {}
        }
    }
    Ok(stretches)
}

/// Saves a trained model (or, with `None`, records that none could be trained), sets when to
/// look again, and writes `recount`'s decision on the heartbeat's current deadlines — all under
/// the heartbeat's row lock, in one transaction. Returns whether a deadline moved earlier (the
/// scheduler must look again), or `None` when the heartbeat is gone or no longer in AI mode
/// (then nothing is written).
pub async fn save_trained(
    conn: &mut PgConn,
    heartbeat: HeartbeatId,
    model: Option<NewModel>,
    next_due: DateTime<Utc>,
    recount: impl FnOnce(&HeartbeatTiming) -> Decision + Send,
) -> Result<Option<bool>, StoreError> {
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let row: Option<TimingRow> = heartbeats::table
            .find(heartbeat.as_uuid())
            .filter(heartbeats::mode.eq("ai"))
            .for_no_key_update()
            .select(TimingRow::as_select())
            .first(conn)
            .await
            .optional()?;
        let Some(row) = row else {
            return Ok(None);
        };
        if let Some(m) = &model {
            let row = ModelRow {
                heartbeat_id: heartbeat.as_uuid(),
                team_id: row.team().as_uuid(),
                version: m.version,
                trained_at: m.trained_at,
                samples: m.samples,
                window_low_secs: m.window_low_secs,
                window_high_secs: m.window_high_secs,
                params: &m.params,
                window_from: m.window_from,
                window_until: m.window_until,
            };
            diesel::insert_into(ai_models::table)
                .values(&row)
                .on_conflict(ai_models::heartbeat_id)
                .do_update()
                .set(&row)
                .execute(conn)
                .await?;
        }
        diesel::update(heartbeats::table.find(heartbeat.as_uuid()))
            .set(heartbeats::model_due_at.eq(next_due))
            .execute(conn)
            .await?;
        let decision = recount(&row.timing()?);
        let wake = decision.wake_scheduler;
        // By key: the row was just updated (`model_due_at`), so it is stored elsewhere now.
        let decided = [Decided {
            heartbeat,
            address: None,
            team: row.team(),
            zone: row.zone().to_owned(),
            decision,
        }];
        let written = decisions::write(conn, &decided, DecidedBy::Operator).await?;
        Ok(Some((wake, written.transitions)))
    })
    .await
    .map(|saved| saved.map(committed))
}

/// The stored models of those of `ids` that have one, for a ping writer's cache.
pub async fn load(
    mut conn: &PgConn,
    ids: &[HeartbeatId],
) -> Result<Vec<(HeartbeatId, StoredModel)>, StoreError> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|i| i.as_uuid()).collect();
    let rows: Vec<(uuid::Uuid, StoredModel)> = ai_models::table
        .filter(ai_models::heartbeat_id.eq_any(&ids))
        .select((ai_models::heartbeat_id, StoredModel::as_select()))
        .load(&mut conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, m)| (HeartbeatId::from_uuid(id), m))
        .collect())
}

/// A team's heartbeat's model, for the dashboard and the API.
pub async fn for_heartbeat(
    mut conn: &PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
) -> Result<Option<StoredModel>, StoreError> {
    Ok(ai_models::table
        .filter(ai_models::team_id.eq(scope.team_id().as_uuid()))
        .filter(ai_models::heartbeat_id.eq(heartbeat.as_uuid()))
        .select(StoredModel::as_select())
        .first(&mut conn)
        .await
        .optional()?)
}
