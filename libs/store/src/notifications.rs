//! The delivery queue over the `notifications` outbox. A worker claims due notifications with
//! `FOR UPDATE SKIP LOCKED` and commits the claim at once (no transaction stays open while it
//! talks to the outside world); the claim pushes `next_attempt_at` out by a lease, so a process
//! that dies mid-send leaves the notification to be retried when the lease runs out, and its
//! attempt row is marked abandoned. Results are recorded only by the holder of the current
//! attempt, so a stale worker cannot overwrite a newer outcome.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Int8, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::Serialize;

use crate::schema::{notification_attempts, notifications};
use crate::{PgConn, StoreError};

/// A claimed notification with everything needed to render and send it.
#[derive(Clone, Debug, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: uuid::Uuid,
    #[diesel(sql_type = diesel::sql_types::Int4)]
    pub attempt: i32,
    /// `alert`, `recovery`, `early_warning` or `test`.
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub channel_kind: String,
    #[diesel(sql_type = Text)]
    pub target: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub secret: Option<String>,
    #[diesel(sql_type = SqlUuid)]
    pub team_id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    pub team_name: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub heartbeat_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub heartbeat_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub heartbeat_status: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub last_ping_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub incident_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reason: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub opened_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub resolved_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub deadline_at: Option<DateTime<Utc>>,
}

/// Claims up to `limit` notifications due at `now` for one attempt each, leased for `lease`. A
/// recovery notice waits until the alert of its incident on the same channel is settled (sent
/// or failed), so a receiver never hears "up again" before "down".
pub async fn claim(
    conn: &mut PgConn,
    now: DateTime<Utc>,
    limit: i64,
    lease: Duration,
) -> Result<Vec<Claimed>, StoreError> {
    let lease_end = now + lifeline_settings::span(lease);
    Ok(diesel::sql_query(
        "WITH claimed AS ( \
           UPDATE notifications n SET attempts = n.attempts + 1, next_attempt_at = $2 \
           FROM (SELECT id FROM notifications q \
                 WHERE status = 'pending' AND next_attempt_at <= $1 \
                   AND NOT (kind = 'recovery' AND EXISTS ( \
                     SELECT 1 FROM notifications a WHERE a.incident_id = q.incident_id \
                     AND a.channel_id = q.channel_id AND a.kind = 'alert' \
                     AND a.status = 'pending')) \
                 ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) due \
           WHERE n.id = due.id \
           RETURNING n.id, n.attempts, n.kind, n.channel_id, n.incident_id, n.team_id), \
         abandoned AS ( \
           UPDATE notification_attempts a SET finished_at = $1, outcome = 'abandoned', \
             detail = 'the process sending it stopped before recording an outcome' \
           FROM claimed c WHERE a.notification_id = c.id AND a.finished_at IS NULL), \
         started AS ( \
           INSERT INTO notification_attempts (notification_id, attempt, team_id, started_at) \
           SELECT id, attempts, team_id, $1 FROM claimed) \
         SELECT c.id, c.attempts AS attempt, c.kind, ch.kind AS channel_kind, ch.target, \
           ch.secret, t.id AS team_id, t.name AS team_name, h.id AS heartbeat_id, \
           h.name AS heartbeat_name, h.status AS heartbeat_status, h.last_ping_at, \
           i.id AS incident_id, i.reason, i.opened_at, i.resolved_at, i.deadline_at \
         FROM claimed c JOIN channels ch ON ch.id = c.channel_id JOIN teams t ON t.id = c.team_id \
         LEFT JOIN incidents i ON i.id = c.incident_id \
         LEFT JOIN heartbeats h ON h.id = i.heartbeat_id",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<Timestamptz, _>(lease_end)
    .bind::<Int8, _>(limit)
    .load(conn)
    .await?)
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent {
        detail: String,
    },
    /// Failed; tried again at `retry_at`, or given up for good when `None`.
    Failed {
        error: String,
        retry_at: Option<DateTime<Utc>>,
    },
}

/// Records the outcome of `attempt`. Returns false when that attempt is no longer the current
/// one (its lease ran out and another worker took over): nothing is changed then.
pub async fn record(
    conn: &mut PgConn,
    id: uuid::Uuid,
    attempt: i32,
    finished_at: DateTime<Utc>,
    outcome: Outcome,
) -> Result<bool, StoreError> {
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let (label, detail) = match &outcome {
            Outcome::Sent { detail } => ("sent", detail.clone()),
            Outcome::Failed { error, .. } => ("failed", error.clone()),
        };
        diesel::update(
            notification_attempts::table
                .filter(notification_attempts::notification_id.eq(id))
                .filter(notification_attempts::attempt.eq(attempt)),
        )
        .set((
            notification_attempts::finished_at.eq(finished_at),
            notification_attempts::outcome.eq(label),
            notification_attempts::detail.eq(&detail),
        ))
        .execute(conn)
        .await?;
        let current = notifications::table
            .filter(notifications::id.eq(id))
            .filter(notifications::attempts.eq(attempt))
            .filter(notifications::status.eq("pending"));
        let changed = match outcome {
            Outcome::Sent { .. } => {
                diesel::update(current)
                    .set((
                        notifications::status.eq("sent"),
                        notifications::sent_at.eq(finished_at),
                        notifications::last_error.eq(None::<String>),
                    ))
                    .execute(conn)
                    .await?
            }
            Outcome::Failed {
                error,
                retry_at: Some(at),
            } => {
                diesel::update(current)
                    .set((
                        notifications::next_attempt_at.eq(at),
                        notifications::last_error.eq(error),
                    ))
                    .execute(conn)
                    .await?
            }
            Outcome::Failed {
                error,
                retry_at: None,
            } => {
                diesel::update(current)
                    .set((
                        notifications::status.eq("failed"),
                        notifications::last_error.eq(error),
                    ))
                    .execute(conn)
                    .await?
            }
        };
        Ok(changed == 1)
    })
    .await
}

/// When the next pending notification is due, so workers can sleep until then.
pub async fn next_due(conn: &mut PgConn) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(notifications::table
        .filter(notifications::status.eq("pending"))
        .select(notifications::next_attempt_at)
        .order(notifications::next_attempt_at)
        .first(conn)
        .await
        .optional()?)
}

/// One recorded attempt, as history shows it.
#[derive(Clone, Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = notification_attempts)]
pub struct Attempt {
    pub attempt: i32,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub detail: Option<String>,
}

/// The attempts of one notification of the scope's team, in order.
pub async fn attempts(
    conn: &mut PgConn,
    scope: &crate::TeamScope,
    id: uuid::Uuid,
) -> Result<Vec<Attempt>, StoreError> {
    Ok(notification_attempts::table
        .filter(notification_attempts::team_id.eq(scope.team_id().as_uuid()))
        .filter(notification_attempts::notification_id.eq(id))
        .order(notification_attempts::attempt)
        .select(Attempt::as_select())
        .load(conn)
        .await?)
}
