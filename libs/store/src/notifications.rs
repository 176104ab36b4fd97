//! The delivery queue over the `notifications` outbox. A worker claims due notifications with
//! `FOR UPDATE SKIP LOCKED` and commits the claim at once (no transaction stays open while it
//! talks to the outside world); the claim pushes `next_attempt_at` out by a lease, so a process
//! that dies mid-send leaves the notification to be retried when the lease runs out, and its
//! attempt row is marked abandoned. Results are recorded only by the holder of the current
//! attempt, so a stale worker cannot overwrite a newer outcome.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Double, Int8, Interval, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl};
use lifeline_domain::{
    ChannelId, ChannelKind, HeartbeatId, IncidentId, IncidentKind, NotificationId,
    NotificationKind, NotificationStatus, Status, TeamId,
};
use serde::Serialize;

use lifeline_settings::span;

use crate::label::stored;
use crate::schema::{notification_attempts, notifications};
use crate::{PgConn, StoreError, pg};

/// A claimed notification with everything needed to render and send it.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: NotificationId,
    pub attempt: i32,
    pub kind: NotificationKind,
    pub channel: ChannelKind,
    pub channel_id: ChannelId,
    pub channel_name: String,
    /// False for an email channel whose address has not confirmed (it may have been changed
    /// after this notification was queued): nothing is sent to such an address.
    pub confirmed: bool,
    pub target: String,
    /// The webhook signing secret (webhook channels always have one).
    pub secret: Option<String>,
    pub team_id: TeamId,
    pub team_name: String,
    pub heartbeat_id: Option<HeartbeatId>,
    pub heartbeat_name: Option<String>,
    pub heartbeat_status: Option<Status>,
    pub last_ping_at: Option<DateTime<Utc>>,
    pub incident_id: Option<IncidentId>,
    /// What the incident is about: a `recovery` of an `early_warning` is "back on track".
    pub incident_kind: Option<IncidentKind>,
    pub reason: Option<String>,
    pub opened_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub deadline_at: Option<DateTime<Utc>>,
}

/// A claimed notification whose row this code cannot read (a kind it does not know): it is not
/// sent anywhere by guesswork; the caller records it as failed with `error`.
#[derive(Clone, Debug)]
pub struct Unreadable {
    pub id: NotificationId,
    pub attempt: i32,
    pub error: String,
}

#[derive(QueryableByName)]
struct ClaimedRow {
    #[diesel(sql_type = SqlUuid)]
    id: uuid::Uuid,
    #[diesel(sql_type = diesel::sql_types::Int4)]
    attempt: i32,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    channel_kind: String,
    #[diesel(sql_type = SqlUuid)]
    channel_id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    channel_name: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    confirmed: bool,
    #[diesel(sql_type = Text)]
    target: String,
    #[diesel(sql_type = Nullable<Text>)]
    secret: Option<String>,
    #[diesel(sql_type = SqlUuid)]
    team_id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    team_name: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    heartbeat_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    heartbeat_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    heartbeat_status: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_ping_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    incident_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    incident_kind: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    reason: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    opened_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    resolved_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    deadline_at: Option<DateTime<Utc>>,
}

impl ClaimedRow {
    fn read(self) -> Result<Claimed, Unreadable> {
        let typed = (|| {
            Ok::<_, StoreError>((
                stored::<NotificationKind>(&self.kind)?,
                stored::<ChannelKind>(&self.channel_kind)?,
                self.heartbeat_status
                    .as_deref()
                    .map(stored::<Status>)
                    .transpose()?,
                self.incident_kind
                    .as_deref()
                    .map(stored::<IncidentKind>)
                    .transpose()?,
            ))
        })();
        let (kind, channel, heartbeat_status, incident_kind) = typed.map_err(|e| Unreadable {
            id: NotificationId::from_uuid(self.id),
            attempt: self.attempt,
            error: e.to_string(),
        })?;
        Ok(Claimed {
            id: NotificationId::from_uuid(self.id),
            attempt: self.attempt,
            kind,
            channel,
            channel_id: ChannelId::from_uuid(self.channel_id),
            channel_name: self.channel_name,
            confirmed: self.confirmed,
            target: self.target,
            secret: self.secret,
            team_id: TeamId::from_uuid(self.team_id),
            team_name: self.team_name,
            heartbeat_id: self.heartbeat_id.map(HeartbeatId::from_uuid),
            heartbeat_name: self.heartbeat_name,
            heartbeat_status,
            last_ping_at: self.last_ping_at,
            incident_id: self.incident_id.map(IncidentId::from_uuid),
            incident_kind,
            reason: self.reason,
            opened_at: self.opened_at,
            resolved_at: self.resolved_at,
            deadline_at: self.deadline_at,
        })
    }
}

/// Claims up to `limit` notifications due at `now` for one attempt each, leased for `lease`. A
/// recovery notice waits until its incident's first notice on the same channel (the alert, the
/// early warning, or the flapping notice) is settled (sent or failed), so a receiver never hears "up again" before
/// "down", nor "back on track" before the warning. A channel test has no incident (nor
/// heartbeat): those columns come back empty.
pub async fn claim(
    conn: &mut PgConn,
    limit: i64,
    lease: Duration,
) -> Result<Vec<Result<Claimed, Unreadable>>, StoreError> {
    // Due, leased and started by Postgres's clock: a scheduler whose own clock runs ahead would
    // otherwise take over sends whose lease has not run out, and deliver them twice.
    let rows: Vec<ClaimedRow> = diesel::sql_query(
        "WITH claimed AS ( \
           UPDATE notifications n SET attempts = n.attempts + 1, next_attempt_at = now() + $1 \
           FROM (SELECT id FROM notifications q \
                 WHERE status = 'pending' AND next_attempt_at <= now() \
                   AND NOT (kind = 'recovery' AND EXISTS ( \
                     SELECT 1 FROM notifications a WHERE a.incident_id = q.incident_id \
                     AND a.channel_id = q.channel_id AND a.kind IN ('alert', 'early_warning', 'flapping') \
                     AND a.status = 'pending')) \
                 ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) due \
           WHERE n.id = due.id \
           RETURNING n.id, n.attempts, n.kind, n.channel_id, n.incident_id, n.team_id), \
         abandoned AS ( \
           UPDATE notification_attempts a SET finished_at = now(), outcome = 'abandoned', \
             detail = 'the process sending it stopped before recording an outcome' \
           FROM claimed c WHERE a.notification_id = c.id AND a.finished_at IS NULL), \
         started AS ( \
           INSERT INTO notification_attempts (notification_id, attempt, team_id, started_at) \
           SELECT id, attempts, team_id, now() FROM claimed) \
         SELECT c.id, c.attempts AS attempt, c.kind, ch.kind AS channel_kind, \
           ch.id AS channel_id, ch.name AS channel_name, \
           ch.confirmed_at IS NOT NULL AS confirmed, ch.target, \
           ch.secret, t.id AS team_id, t.name AS team_name, h.id AS heartbeat_id, \
           h.name AS heartbeat_name, h.status AS heartbeat_status, h.last_ping_at, \
           i.id AS incident_id, i.kind AS incident_kind, i.reason, i.opened_at, i.resolved_at, i.deadline_at \
         FROM claimed c JOIN channels ch ON ch.id = c.channel_id JOIN teams t ON t.id = c.team_id \
         LEFT JOIN incidents i ON i.id = c.incident_id \
         LEFT JOIN heartbeats h ON h.id = i.heartbeat_id",
    )
    .bind::<Interval, _>(pg::interval(span(lease)))
    .bind::<Int8, _>(limit)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(ClaimedRow::read).collect())
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent {
        detail: String,
    },
    /// Failed; tried again after `retry_in`, or given up for good when `None`.
    Failed {
        error: String,
        retry_in: Option<Duration>,
    },
}

/// Records the outcome of `attempt`, at Postgres's now. Returns false when that attempt is no
/// longer the current one (its lease ran out and another worker took over): nothing is changed
/// then.
pub async fn record(
    conn: &mut PgConn,
    id: NotificationId,
    attempt: i32,
    outcome: Outcome,
) -> Result<bool, StoreError> {
    let finished_at = || pg::now().nullable();
    let id = id.as_uuid();
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
            notification_attempts::finished_at.eq(finished_at()),
            notification_attempts::outcome.eq(label),
            notification_attempts::detail.eq(&detail),
        ))
        .execute(conn)
        .await?;
        let current = notifications::table
            .filter(notifications::id.eq(id))
            .filter(notifications::attempts.eq(attempt))
            .filter(notifications::status.eq(NotificationStatus::Pending.as_str()));
        let changed = match outcome {
            Outcome::Sent { .. } => {
                diesel::update(current)
                    .set((
                        notifications::status.eq(NotificationStatus::Sent.as_str()),
                        notifications::sent_at.eq(finished_at()),
                        notifications::last_error.eq(None::<String>),
                    ))
                    .execute(conn)
                    .await?
            }
            Outcome::Failed {
                error,
                retry_in: Some(after),
            } => {
                diesel::update(current)
                    .set((
                        notifications::next_attempt_at.eq(pg::now() + pg::interval(span(after))),
                        notifications::last_error.eq(error),
                    ))
                    .execute(conn)
                    .await?
            }
            Outcome::Failed {
                error,
                retry_in: None,
            } => {
                diesel::update(current)
                    .set((
                        notifications::status.eq(NotificationStatus::Failed.as_str()),
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

/// How long until the next pending notification is due (zero if it is), by Postgres's clock, so
/// workers can sleep until then.
pub async fn next_due(conn: &mut PgConn) -> Result<Option<Duration>, StoreError> {
    let seconds: Option<f64> = notifications::table
        .filter(notifications::status.eq(NotificationStatus::Pending.as_str()))
        .select(diesel::dsl::sql::<Double>(
            "greatest(extract(epoch FROM next_attempt_at - now()), 0)::float8",
        ))
        .order(notifications::next_attempt_at)
        .first(conn)
        .await
        .optional()?;
    Ok(seconds.map(|s| Duration::from_secs_f64(s.max(0.0))))
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
    id: NotificationId,
) -> Result<Vec<Attempt>, StoreError> {
    Ok(notification_attempts::table
        .filter(notification_attempts::team_id.eq(scope.team_id().as_uuid()))
        .filter(notification_attempts::notification_id.eq(id.as_uuid()))
        .order(notification_attempts::attempt)
        .select(Attempt::as_select())
        .load(conn)
        .await?)
}

/// Queues a `test` notification for a channel of the scope's team, due now: the scheduler
/// delivers it like an alert (same sender, retries and attempt records). An email address that
/// has not confirmed cannot be tested: it gets nothing until it confirms.
pub async fn queue_test(
    conn: &mut PgConn,
    scope: &crate::TeamScope,
    channel: ChannelId,
) -> Result<NotificationId, StoreError> {
    let found = crate::channels::find(conn, scope, channel).await?;
    if !found.is_confirmed() {
        return Err(StoreError::Invalid(format!(
            "{} has not confirmed it wants Lifeline's alerts yet: open the link in the \
             confirmation email first (or send it again), then test",
            found.target
        )));
    }
    let id = NotificationId::new();
    diesel::insert_into(notifications::table)
        .values((
            notifications::id.eq(id.as_uuid()),
            notifications::team_id.eq(scope.team_id().as_uuid()),
            notifications::incident_id.eq(None::<uuid::Uuid>),
            notifications::channel_id.eq(channel.as_uuid()),
            notifications::kind.eq(NotificationKind::Test.as_str()),
            notifications::next_attempt_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    Ok(id)
}

/// One notification sent (or being sent) to a channel, as the channel's page lists it.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    pub id: NotificationId,
    pub kind: NotificationKind,
    /// The heartbeat of the incident; `None` for a channel test.
    pub heartbeat_id: Option<HeartbeatId>,
    pub heartbeat_name: Option<String>,
    pub status: NotificationStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Every attempt, oldest first.
    pub history: Vec<Attempt>,
}

type DeliveryRow = (
    uuid::Uuid,
    String,
    Option<uuid::Uuid>,
    Option<String>,
    String,
    i32,
    Option<String>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

/// The channel's newest `limit` notifications with their attempts, newest first.
pub async fn recent_for_channel(
    conn: &mut PgConn,
    scope: &crate::TeamScope,
    channel: ChannelId,
    limit: i64,
) -> Result<Vec<Delivery>, StoreError> {
    use crate::schema::{heartbeats, incidents};
    let team = scope.team_id().as_uuid();
    let rows: Vec<DeliveryRow> = notifications::table
        .left_join(incidents::table.left_join(heartbeats::table))
        .filter(notifications::team_id.eq(team))
        .filter(notifications::channel_id.eq(channel.as_uuid()))
        .order((notifications::created_at.desc(), notifications::id))
        .limit(limit)
        .select((
            notifications::id,
            notifications::kind,
            heartbeats::id.nullable(),
            heartbeats::name.nullable(),
            notifications::status,
            notifications::attempts,
            notifications::last_error,
            notifications::created_at,
            notifications::sent_at,
        ))
        .load(conn)
        .await?;
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.0).collect();
    let mut attempts: Vec<(uuid::Uuid, Attempt)> = notification_attempts::table
        .filter(notification_attempts::team_id.eq(team))
        .filter(notification_attempts::notification_id.eq_any(&ids))
        .order((
            notification_attempts::notification_id,
            notification_attempts::attempt,
        ))
        .select((notification_attempts::notification_id, Attempt::as_select()))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|row| {
            let (id, kind, hb_id, hb_name, status, tries, last_error, created_at, sent_at) = row;
            let (mine, rest): (Vec<_>, Vec<_>) = attempts.drain(..).partition(|(n, _)| *n == id);
            attempts = rest;
            Ok(Delivery {
                id: NotificationId::from_uuid(id),
                kind: stored(&kind)?,
                heartbeat_id: hb_id.map(HeartbeatId::from_uuid),
                heartbeat_name: hb_name,
                status: stored(&status)?,
                attempts: tries,
                last_error,
                created_at,
                sent_at,
                history: mine.into_iter().map(|(_, a)| a).collect(),
            })
        })
        .collect()
}
