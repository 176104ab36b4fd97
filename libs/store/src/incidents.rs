//! Incidents and the alert outbox. Opening or resolving an incident writes its notifications —
//! one per channel attached to the heartbeat — in the same statement, inside the caller's
//! transaction, so a status change and its alerts commit or vanish together. Two kinds: `down`
//! (alert, then recovery) and an AI heartbeat's `early_warning` (warning, then "back on track",
//! a `recovery` of that incident).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use lifeline_domain::{
    ChannelId, HeartbeatId, IncidentId, IncidentKind, NotificationId, NotificationKind,
    NotificationStatus, TeamId,
};
use serde::Serialize;

use crate::label::stored;
use crate::schema::{incidents, notifications};
use crate::{PgConn, StoreError, TeamScope};

/// An incident to open: a heartbeat going down, or an AI heartbeat's early warning.
#[derive(Clone, Debug)]
pub(crate) struct Opening {
    pub heartbeat: HeartbeatId,
    pub team: TeamId,
    pub kind: IncidentKind,
    pub reason: String,
    pub opened_at: DateTime<Utc>,
    /// The deadline that was missed (none for a failure signal or a payload surprise).
    pub deadline: Option<DateTime<Utc>>,
}

/// A heartbeat's open incident of `kind` that closes at `at`; `notify` queues the notice that
/// it is over (recovery, or "back on track" for an early warning).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Resolving {
    pub heartbeat: HeartbeatId,
    pub kind: IncidentKind,
    pub at: DateTime<Utc>,
    pub notify: bool,
}

/// The notification that opens an incident of `kind` on each channel.
fn first_notice(kind: IncidentKind) -> NotificationKind {
    match kind {
        IncidentKind::Down => NotificationKind::Alert,
        IncidentKind::EarlyWarning => NotificationKind::EarlyWarning,
        IncidentKind::Flapping => NotificationKind::Flapping,
    }
}

/// Opens each incident and queues its first notice (an alert, or an early warning) per attached
/// channel. A heartbeat that already has one of that kind open keeps it, and gets no second
/// notice: one incident per heartbeat and kind at a time (a unique index), so a replica or a
/// retried pass deciding the same thing again changes nothing. Returns how many notifications
/// were queued.
///
/// Channels not confirmed (`confirmed_at IS NULL`: an email address that has not opened its
/// confirmation link) get nothing, here and in [`resolve`]: a team must not be able to make
/// Lifeline mail an address that never asked for it. Confirming later does not replay what was
/// skipped.
pub(crate) async fn open(mut conn: &PgConn, openings: &[Opening]) -> Result<usize, StoreError> {
    if openings.is_empty() {
        return Ok(0);
    }
    let ids: Vec<uuid::Uuid> = openings
        .iter()
        .map(|_| IncidentId::new().as_uuid())
        .collect();
    let heartbeats: Vec<uuid::Uuid> = openings.iter().map(|o| o.heartbeat.as_uuid()).collect();
    let teams: Vec<uuid::Uuid> = openings.iter().map(|o| o.team.as_uuid()).collect();
    let kinds: Vec<&str> = openings.iter().map(|o| o.kind.as_str()).collect();
    let notices: Vec<&str> = openings
        .iter()
        .map(|o| first_notice(o.kind).as_str())
        .collect();
    let reasons: Vec<&str> = openings.iter().map(|o| o.reason.as_str()).collect();
    let opened: Vec<DateTime<Utc>> = openings.iter().map(|o| o.opened_at).collect();
    let deadlines: Vec<Option<DateTime<Utc>>> = openings.iter().map(|o| o.deadline).collect();
    Ok(diesel::sql_query(
        "WITH wanted AS ( \
           SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8) \
             AS u(id, hb, team, kind, notice, reason, at, deadline)), \
         opened AS ( \
           INSERT INTO incidents (id, heartbeat_id, team_id, kind, reason, opened_at, deadline_at) \
           SELECT id, hb, team, kind, reason, at, deadline FROM wanted \
           ON CONFLICT (heartbeat_id, kind) WHERE resolved_at IS NULL DO NOTHING \
           RETURNING id, heartbeat_id, team_id, opened_at) \
         INSERT INTO notifications (id, team_id, incident_id, channel_id, kind, next_attempt_at) \
         SELECT gen_random_uuid(), o.team_id, o.id, hc.channel_id, w.notice, o.opened_at \
         FROM opened o JOIN wanted w ON w.id = o.id \
         JOIN heartbeat_channels hc ON hc.heartbeat_id = o.heartbeat_id \
         JOIN channels ch ON ch.id = hc.channel_id AND ch.confirmed_at IS NOT NULL",
    )
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<SqlUuid>, _>(&heartbeats)
    .bind::<Array<SqlUuid>, _>(&teams)
    .bind::<Array<Text>, _>(&kinds)
    .bind::<Array<Text>, _>(&notices)
    .bind::<Array<Text>, _>(&reasons)
    .bind::<Array<Timestamptz>, _>(&opened)
    .bind::<Array<Nullable<Timestamptz>>, _>(&deadlines)
    .execute(&mut conn)
    .await?)
}

/// Resolves each heartbeat's open incident of the given kind, and queues a `recovery` notice per
/// attached channel for those resolved with `notify` (a down heartbeat is up again; an early
/// warning is back on track). Nothing open of that kind: nothing happens. Returns how many
/// notifications were queued.
pub(crate) async fn resolve(
    mut conn: &PgConn,
    resolved: &[Resolving],
) -> Result<usize, StoreError> {
    if resolved.is_empty() {
        return Ok(0);
    }
    let heartbeats: Vec<uuid::Uuid> = resolved.iter().map(|r| r.heartbeat.as_uuid()).collect();
    let kinds: Vec<&str> = resolved.iter().map(|r| r.kind.as_str()).collect();
    let at: Vec<DateTime<Utc>> = resolved.iter().map(|r| r.at).collect();
    let notify: Vec<bool> = resolved.iter().map(|r| r.notify).collect();
    Ok(diesel::sql_query(
        "WITH resolved AS ( \
           UPDATE incidents i SET resolved_at = greatest(u.at, i.opened_at) \
           FROM unnest($1, $2, $3, $4) AS u(hb, kind, at, notify) \
           WHERE i.heartbeat_id = u.hb AND i.kind = u.kind AND i.resolved_at IS NULL \
           RETURNING i.id, i.heartbeat_id, i.team_id, i.resolved_at, u.notify) \
         INSERT INTO notifications (id, team_id, incident_id, channel_id, kind, next_attempt_at) \
         SELECT gen_random_uuid(), r.team_id, r.id, hc.channel_id, 'recovery', r.resolved_at \
         FROM resolved r JOIN heartbeat_channels hc ON hc.heartbeat_id = r.heartbeat_id \
         JOIN channels ch ON ch.id = hc.channel_id AND ch.confirmed_at IS NOT NULL \
         WHERE r.notify",
    )
    .bind::<Array<SqlUuid>, _>(&heartbeats)
    .bind::<Array<Text>, _>(&kinds)
    .bind::<Array<Timestamptz>, _>(&at)
    .bind::<Array<Bool>, _>(&notify)
    .execute(&mut conn)
    .await?)
}

/// An incident as the team sees it.
#[derive(Clone, Debug, Serialize)]
pub struct Incident {
    pub id: IncidentId,
    pub kind: IncidentKind,
    pub reason: String,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub deadline_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = incidents)]
pub(crate) struct IncidentRow {
    id: uuid::Uuid,
    kind: String,
    reason: String,
    opened_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    deadline_at: Option<DateTime<Utc>>,
}

impl TryFrom<IncidentRow> for Incident {
    type Error = StoreError;
    fn try_from(row: IncidentRow) -> Result<Self, StoreError> {
        Ok(Incident {
            id: IncidentId::from_uuid(row.id),
            kind: stored(&row.kind)?,
            reason: row.reason,
            opened_at: row.opened_at,
            resolved_at: row.resolved_at,
            deadline_at: row.deadline_at,
        })
    }
}

/// The heartbeat's open incident (down, or an early warning), if it has one.
pub async fn open_for(
    conn: &mut PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
) -> Result<Option<Incident>, StoreError> {
    open_of(
        conn,
        scope,
        heartbeat,
        &[IncidentKind::Down, IncidentKind::EarlyWarning],
    )
    .await
}

/// The heartbeat's flapping spell, while it lasts.
pub async fn flapping_for(
    conn: &mut PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
) -> Result<Option<Incident>, StoreError> {
    open_of(conn, scope, heartbeat, &[IncidentKind::Flapping]).await
}

async fn open_of(
    conn: &mut PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
    kinds: &[IncidentKind],
) -> Result<Option<Incident>, StoreError> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    incidents::table
        .filter(incidents::team_id.eq(scope.team_id().as_uuid()))
        .filter(incidents::heartbeat_id.eq(heartbeat.as_uuid()))
        .filter(incidents::resolved_at.is_null())
        .filter(incidents::kind.eq_any(kinds))
        .order(incidents::opened_at.desc())
        .select(IncidentRow::as_select())
        .first(conn)
        .await
        .optional()?
        .map(Incident::try_from)
        .transpose()
}

/// The heartbeat's incidents, newest first.
pub async fn history(
    conn: &mut PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
    limit: i64,
) -> Result<Vec<Incident>, StoreError> {
    incidents::table
        .filter(incidents::team_id.eq(scope.team_id().as_uuid()))
        .filter(incidents::heartbeat_id.eq(heartbeat.as_uuid()))
        // Open incidents always show; closed ones only within the plan's history.
        .filter(
            incidents::resolved_at
                .is_null()
                .or(incidents::opened_at.ge(scope.plan().retention_cutoff(chrono::Utc::now()))),
        )
        .order(incidents::opened_at.desc())
        .limit(limit)
        .select(IncidentRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Incident::try_from)
        .collect()
}

/// The newest alert queued for the heartbeat, with its delivery state.
#[derive(Clone, Debug, Serialize)]
pub struct AlertSummary {
    pub notification_id: NotificationId,
    pub incident_id: IncidentId,
    pub channel_id: ChannelId,
    pub kind: NotificationKind,
    pub status: NotificationStatus,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

type AlertRow = (
    uuid::Uuid,
    uuid::Uuid,
    uuid::Uuid,
    String,
    String,
    i32,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<String>,
);

impl TryFrom<AlertRow> for AlertSummary {
    type Error = StoreError;
    fn try_from(row: AlertRow) -> Result<Self, StoreError> {
        let (id, incident, channel, kind, status, attempts, created_at, sent_at, last_error) = row;
        Ok(AlertSummary {
            notification_id: NotificationId::from_uuid(id),
            incident_id: IncidentId::from_uuid(incident),
            channel_id: ChannelId::from_uuid(channel),
            kind: stored(&kind)?,
            status: stored(&status)?,
            attempts,
            created_at,
            sent_at,
            last_error,
        })
    }
}

pub async fn last_alert(
    conn: &mut PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
) -> Result<Option<AlertSummary>, StoreError> {
    notifications::table
        .inner_join(incidents::table)
        .filter(notifications::team_id.eq(scope.team_id().as_uuid()))
        .filter(incidents::heartbeat_id.eq(heartbeat.as_uuid()))
        .filter(notifications::kind.eq(NotificationKind::Alert.as_str()))
        .order(notifications::created_at.desc())
        .select((
            notifications::id,
            incidents::id,
            notifications::channel_id,
            notifications::kind,
            notifications::status,
            notifications::attempts,
            notifications::created_at,
            notifications::sent_at,
            notifications::last_error,
        ))
        .first::<AlertRow>(conn)
        .await
        .optional()?
        .map(AlertSummary::try_from)
        .transpose()
}
