//! Heartbeats of a team: create, find, list, rotate, pause, resume, relearn, stats. Every
//! function takes the team scope, so another team's heartbeat is simply not found.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use lifeline_domain::{
    ChannelId, Decision, HeartbeatId, HeartbeatMode, HeartbeatName, HeartbeatTiming, PingToken,
    RunLimits, Schedule, Status, TeamId, TimeZoneName,
};
use serde::Serialize;

use crate::decisions::{self, Decided, DecidedBy, Transitions, committed};
use crate::label::{stored, stored_time_zone};
use crate::schema::{channels, heartbeat_channels, heartbeats, status_changes, teams};
use crate::timing_rows::{EffectiveZone, TimingFields};
use crate::{PgConn, StoreError, TeamScope, pg};

/// A heartbeat as the team and the operator see it.
#[derive(Clone, Debug)]
pub struct Heartbeat {
    pub id: HeartbeatId,
    pub team_id: TeamId,
    pub name: String,
    pub description: String,
    pub token: String,
    pub mode: HeartbeatMode,
    /// Its own time zone; `None` follows the team's (`in_zone_of_team`, `effective_time_zone`).
    pub time_zone: Option<TimeZoneName>,
    /// Status, deadlines, schedule and run limits: the domain's state of this heartbeat.
    pub timing: HeartbeatTiming,
    /// When the scheduler looks at it next (the earliest deadline), if it is watched.
    pub next_check_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// The JSON the admin CLI prints: the timing laid out flat, without the token (the CLI adds it
/// where it means to).
impl Serialize for Heartbeat {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Flat<'a> {
            id: HeartbeatId,
            team_id: TeamId,
            name: &'a str,
            description: &'a str,
            mode: HeartbeatMode,
            time_zone: Option<TimeZoneName>,
            interval_secs: i64,
            grace_secs: i64,
            status: Status,
            last_ping_at: Option<DateTime<Utc>>,
            started_at: Option<DateTime<Utc>>,
            due_at: Option<DateTime<Utc>>,
            alert_at: Option<DateTime<Utc>>,
            max_runtime_secs: Option<i64>,
            progress_timeout_secs: Option<i64>,
            last_progress_at: Option<DateTime<Utc>>,
            next_check_at: Option<DateTime<Utc>>,
            created_at: DateTime<Utc>,
        }
        let (t, schedule) = (&self.timing, self.schedule());
        Flat {
            id: self.id,
            team_id: self.team_id,
            name: &self.name,
            description: &self.description,
            mode: self.mode,
            time_zone: self.time_zone,
            interval_secs: schedule.interval_secs(),
            grace_secs: schedule.grace_secs(),
            status: t.status,
            last_ping_at: t.last_ping_at,
            started_at: t.started_at,
            due_at: t.due_at,
            alert_at: t.alert_at,
            max_runtime_secs: t.limits.max_runtime().map(|d| d.num_seconds()),
            progress_timeout_secs: t.limits.progress_timeout().map(|d| d.num_seconds()),
            last_progress_at: t.last_progress_at,
            next_check_at: self.next_check_at,
            created_at: self.created_at,
        }
        .serialize(serializer)
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = heartbeats)]
struct HeartbeatRow {
    id: uuid::Uuid,
    team_id: uuid::Uuid,
    name: String,
    description: String,
    token: String,
    mode: String,
    time_zone: Option<String>,
    #[diesel(embed)]
    timing: TimingFields,
    next_check_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl TryFrom<HeartbeatRow> for Heartbeat {
    type Error = StoreError;
    fn try_from(r: HeartbeatRow) -> Result<Self, StoreError> {
        Ok(Heartbeat {
            id: HeartbeatId::from_uuid(r.id),
            team_id: TeamId::from_uuid(r.team_id),
            name: r.name,
            description: r.description,
            token: r.token,
            mode: stored(&r.mode)?,
            time_zone: r.time_zone.as_deref().map(stored_time_zone).transpose()?,
            timing: HeartbeatTiming::try_from(&r.timing)?,
            next_check_at: r.next_check_at,
            created_at: r.created_at,
        })
    }
}

impl Heartbeat {
    /// The interval + grace the team configured.
    pub fn schedule(&self) -> Schedule {
        self.timing.cadence.fixed()
    }

    /// The zone its local times are in: its own, else `team_zone` (the team's, from
    /// `teams::time_zone`). `effective_time_zone` asks the database for both at once.
    pub fn in_zone_of_team(&self, team_zone: TimeZoneName) -> TimeZoneName {
        self.time_zone.unwrap_or(team_zone)
    }

    /// The lookup hash of its token, as ingest caches and revocations know it.
    pub fn token_hash(&self) -> Result<[u8; 32], StoreError> {
        PingToken::parse(&self.token)
            .map(|t| t.lookup_hash())
            .map_err(|e| StoreError::Invalid(format!("stored token: {e}")))
    }

    /// The public ping URL under `base_url` (e.g. `https://hb.example.com`).
    pub fn ping_url(&self, base_url: &str) -> String {
        format!(
            "{}/api/v1/hb/{}",
            base_url.trim_end_matches('/'),
            self.token
        )
    }
}

/// What a new heartbeat needs.
#[derive(Clone, Debug)]
pub struct NewHeartbeat {
    pub name: HeartbeatName,
    /// What the job is, for whoever reads the alert; may be empty.
    pub description: String,
    pub schedule: Schedule,
    pub limits: RunLimits,
    /// Its own time zone; `None` follows the team's.
    pub time_zone: Option<TimeZoneName>,
    /// Channels (of the same team) that get its alerts.
    pub channels: Vec<ChannelId>,
}

impl NewHeartbeat {
    /// A heartbeat without run limits or channels, in its team's time zone.
    pub fn new(name: HeartbeatName, schedule: Schedule) -> Self {
        Self {
            name,
            description: String::new(),
            schedule,
            limits: RunLimits::default(),
            time_zone: None,
            channels: Vec::new(),
        }
    }
}

/// Creates a heartbeat with a fresh token, within the plan's heartbeat limit. The team row is
/// locked while counting so that concurrent creations cannot exceed the limit.
pub async fn create(
    conn: &mut PgConn,
    scope: &TeamScope,
    new: NewHeartbeat,
) -> Result<Heartbeat, StoreError> {
    let team = scope.team_id().as_uuid();
    let limit = scope.plan().limits().max_heartbeats;
    conn.transaction::<_, StoreError, _>(async move |conn| {
        teams::table
            .find(team)
            .select(teams::id)
            .for_update()
            .first::<uuid::Uuid>(conn)
            .await?;
        if let Some(max) = limit {
            let count: i64 = heartbeats::table
                .filter(heartbeats::team_id.eq(team))
                .count()
                .get_result(conn)
                .await?;
            if count >= i64::from(max) {
                return Err(StoreError::PlanLimit(format!(
                    "the {} plan allows {max} heartbeats; upgrade to add more",
                    scope.plan()
                )));
            }
        }
        let token = PingToken::generate();
        let heartbeat: Heartbeat = diesel::insert_into(heartbeats::table)
            .values((
                heartbeats::id.eq(HeartbeatId::new().as_uuid()),
                heartbeats::team_id.eq(team),
                heartbeats::name.eq(new.name.as_str()),
                heartbeats::description.eq(&new.description),
                heartbeats::token.eq(token.expose()),
                heartbeats::token_hash.eq(token.lookup_hash().to_vec()),
                heartbeats::interval_secs.eq(secs(new.schedule.interval_secs())),
                heartbeats::grace_secs.eq(secs(new.schedule.grace_secs())),
                heartbeats::max_runtime_secs.eq(new.limits.max_runtime().map(duration_secs)),
                heartbeats::progress_timeout_secs
                    .eq(new.limits.progress_timeout().map(duration_secs)),
                heartbeats::time_zone.eq(new.time_zone.map(|z| z.as_str())),
            ))
            .returning(HeartbeatRow::as_returning())
            .get_result(conn)
            .await?
            .try_into()?;
        for channel in new.channels {
            attach_in_team(conn, team, heartbeat.id, channel).await?;
        }
        Ok(heartbeat)
    })
    .await
}

fn duration_secs(d: chrono::Duration) -> i32 {
    secs(d.num_seconds())
}

/// Sends the heartbeat's alerts to `channel` too. Both must belong to the scope's team.
pub async fn attach(
    conn: &mut PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
    channel: ChannelId,
) -> Result<(), StoreError> {
    let team = scope.team_id().as_uuid();
    find(conn, scope, heartbeat).await?;
    attach_in_team(conn, team, heartbeat, channel).await
}

async fn attach_in_team(
    conn: &mut PgConn,
    team: uuid::Uuid,
    heartbeat: HeartbeatId,
    channel: ChannelId,
) -> Result<(), StoreError> {
    let owned: i64 = channels::table
        .filter(channels::team_id.eq(team))
        .filter(channels::id.eq(channel.as_uuid()))
        .count()
        .get_result(conn)
        .await?;
    if owned == 0 {
        return Err(StoreError::NotFound);
    }
    diesel::insert_into(heartbeat_channels::table)
        .values((
            heartbeat_channels::heartbeat_id.eq(heartbeat.as_uuid()),
            heartbeat_channels::channel_id.eq(channel.as_uuid()),
            heartbeat_channels::team_id.eq(team),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

/// Stops sending the heartbeat's alerts to `channel` (the inverse of [`attach`]). Both must
/// belong to the scope's team (`NotFound` otherwise); returns whether the channel was attached.
pub async fn detach(
    conn: &mut PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
    channel: ChannelId,
) -> Result<bool, StoreError> {
    let team = scope.team_id().as_uuid();
    find(conn, scope, heartbeat).await?;
    crate::channels::find(conn, scope, channel).await?;
    let removed = diesel::delete(
        heartbeat_channels::table
            .filter(heartbeat_channels::team_id.eq(team))
            .filter(heartbeat_channels::heartbeat_id.eq(heartbeat.as_uuid()))
            .filter(heartbeat_channels::channel_id.eq(channel.as_uuid())),
    )
    .execute(conn)
    .await?;
    Ok(removed > 0)
}

/// The channels that get the heartbeat's alerts.
pub async fn channel_ids(
    conn: &mut PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
) -> Result<Vec<ChannelId>, StoreError> {
    let ids: Vec<uuid::Uuid> = heartbeat_channels::table
        .filter(heartbeat_channels::team_id.eq(scope.team_id().as_uuid()))
        .filter(heartbeat_channels::heartbeat_id.eq(heartbeat.as_uuid()))
        .order(heartbeat_channels::channel_id)
        .select(heartbeat_channels::channel_id)
        .load(conn)
        .await?;
    Ok(ids.into_iter().map(ChannelId::from_uuid).collect())
}

fn secs(s: i64) -> i32 {
    // Schedule bounds (≤ 400 days) keep every value far inside i32.
    i32::try_from(s).unwrap_or(i32::MAX)
}

pub async fn find(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: HeartbeatId,
) -> Result<Heartbeat, StoreError> {
    scoped(scope)
        .filter(heartbeats::id.eq(id.as_uuid()))
        .select(HeartbeatRow::as_select())
        .first(conn)
        .await?
        .try_into()
}

pub async fn list(conn: &mut PgConn, scope: &TeamScope) -> Result<Vec<Heartbeat>, StoreError> {
    scoped(scope)
        .order((heartbeats::name, heartbeats::id))
        .select(HeartbeatRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Heartbeat::try_from)
        .collect()
}

/// The time zone the heartbeat's local times are in: its own, or else its team's (the zone AI
/// heartbeats learn times of day and weekdays in). One query for both columns.
pub async fn effective_time_zone(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: HeartbeatId,
) -> Result<TimeZoneName, StoreError> {
    let (own, team): (Option<String>, String) = heartbeats::table
        .inner_join(teams::table)
        .filter(heartbeats::team_id.eq(scope.team_id().as_uuid()))
        .filter(heartbeats::id.eq(id.as_uuid()))
        .select((heartbeats::time_zone, teams::time_zone))
        .first(conn)
        .await?;
    stored_time_zone(own.as_deref().unwrap_or(&team))
}

/// The team's heartbeats, and nobody else's.
fn scoped(scope: &TeamScope) -> heartbeats::BoxedQuery<'static, diesel::pg::Pg> {
    heartbeats::table
        .filter(heartbeats::team_id.eq(scope.team_id().as_uuid()))
        .into_boxed()
}

/// The outcome of a rotation: the heartbeat with its new token, and the old token's lookup hash,
/// which the caller must announce (see `tokens::announce_gone`) so caches drop it.
#[derive(Debug)]
pub struct Rotated {
    pub heartbeat: Heartbeat,
    pub old_token_hash: [u8; 32],
}

pub async fn rotate_token(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: HeartbeatId,
) -> Result<Rotated, StoreError> {
    let team = scope.team_id().as_uuid();
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let old: Vec<u8> = heartbeats::table
            .filter(heartbeats::team_id.eq(team))
            .find(id.as_uuid())
            .select(heartbeats::token_hash)
            .for_no_key_update()
            .first(conn)
            .await?;
        let token = PingToken::generate();
        let heartbeat = diesel::update(heartbeats::table.find(id.as_uuid()))
            .set((
                heartbeats::token.eq(token.expose()),
                heartbeats::token_hash.eq(token.lookup_hash().to_vec()),
                heartbeats::updated_at.eq(diesel::dsl::now),
            ))
            .returning(HeartbeatRow::as_returning())
            .get_result(conn)
            .await?
            .try_into()?;
        let old_token_hash: [u8; 32] = old
            .try_into()
            .map_err(|_| StoreError::Invalid("stored token hash is not 32 bytes".into()))?;
        crate::tokens::record_revocation(conn, &old_token_hash).await?;
        Ok(Rotated {
            heartbeat,
            old_token_hash,
        })
    })
    .await
}

/// Pauses monitoring: no deadlines until the next ping or `resume`.
pub async fn pause(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: HeartbeatId,
) -> Result<Heartbeat, StoreError> {
    change_timing(conn, scope, id, HeartbeatTiming::decide_pause).await
}

/// Resumes monitoring with a full interval + grace from now. The caller wakes the scheduler
/// when the returned heartbeat has a deadline again.
pub async fn resume(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: HeartbeatId,
) -> Result<Heartbeat, StoreError> {
    change_timing(conn, scope, id, HeartbeatTiming::decide_resume).await
}

/// Lets the domain decide about one heartbeat under a row lock, and writes the decision.
async fn change_timing(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: HeartbeatId,
    decide: fn(&HeartbeatTiming, DateTime<Utc>) -> Decision,
) -> Result<Heartbeat, StoreError> {
    update(
        conn,
        scope,
        id,
        HeartbeatChanges::default(),
        move |current, now| Ok(Some(decide(&current.timing, now))),
    )
    .await
}

/// What an edit changes; `None` leaves a field as it was.
#[derive(Clone, Debug, Default)]
pub struct HeartbeatChanges {
    pub name: Option<HeartbeatName>,
    pub description: Option<String>,
    /// The schedule and run limits, which move the deadlines (`decide_reschedule`).
    pub schedule: Option<(Schedule, RunLimits)>,
    /// Replaces the channels that get its alerts (all of the team).
    pub channels: Option<Vec<ChannelId>>,
    /// `Some(Some(zone))` sets its own time zone, `Some(None)` returns it to the team's.
    pub time_zone: Option<Option<TimeZoneName>>,
}

/// Edits a heartbeat. A new schedule moves its deadlines as the domain decides; the caller wakes
/// the scheduler when it did.
pub async fn edit(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: HeartbeatId,
    changes: HeartbeatChanges,
) -> Result<Heartbeat, StoreError> {
    let schedule = changes.schedule;
    update(conn, scope, id, changes, move |current, now| {
        Ok(schedule.map(|(s, limits)| current.timing.decide_reschedule(s, limits, now)))
    })
    .await
}

/// One heartbeat's edit and timing decision under a row lock, in one transaction.
async fn update(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: HeartbeatId,
    changes: HeartbeatChanges,
    decide: impl FnOnce(&Heartbeat, DateTime<Utc>) -> Result<Option<Decision>, StoreError>
    + Send
    + 'static,
) -> Result<Heartbeat, StoreError> {
    let team = scope.team_id();
    let edited = conn
        .transaction::<_, StoreError, _>(async move |conn| {
            // Decided at Postgres's now, the clock pings and deadlines are on, whatever this
            // process's clock says.
            let (current, zone, now): (HeartbeatRow, String, DateTime<Utc>) = heartbeats::table
                .filter(heartbeats::team_id.eq(team.as_uuid()))
                .find(id.as_uuid())
                .select((HeartbeatRow::as_select(), EffectiveZone, pg::now()))
                .for_no_key_update()
                .first(conn)
                .await?;
            let current = Heartbeat::try_from(current)?;
            let mut transitions = Transitions::default();
            if let Some(decision) = decide(&current, now)? {
                let decided = Decided {
                    heartbeat: id,
                    address: None,
                    team,
                    zone,
                    decision,
                };
                transitions = decisions::write(conn, &[decided], DecidedBy::Operator)
                    .await?
                    .transitions;
            }
            // The decision wrote the deadlines; the schedule and limits they came from are columns
            // of their own.
            if let Some((schedule, limits)) = changes.schedule {
                diesel::update(heartbeats::table.find(id.as_uuid()))
                    .set((
                        heartbeats::interval_secs.eq(secs(schedule.interval_secs())),
                        heartbeats::grace_secs.eq(secs(schedule.grace_secs())),
                        heartbeats::max_runtime_secs.eq(limits.max_runtime().map(duration_secs)),
                        heartbeats::progress_timeout_secs
                            .eq(limits.progress_timeout().map(duration_secs)),
                    ))
                    .execute(conn)
                    .await?;
            }
            if let Some(channels) = changes.channels {
                diesel::delete(
                    heartbeat_channels::table
                        .filter(heartbeat_channels::heartbeat_id.eq(id.as_uuid())),
                )
                .execute(conn)
                .await?;
                for channel in channels {
                    attach_in_team(conn, team.as_uuid(), id, channel).await?;
                }
            }
            let name = changes
                .name
                .map(HeartbeatName::into_string)
                .unwrap_or(current.name);
            let description = changes.description.unwrap_or(current.description);
            let time_zone = changes.time_zone.unwrap_or(current.time_zone);
            let edited = diesel::update(heartbeats::table.find(id.as_uuid()))
                .set((
                    heartbeats::name.eq(name),
                    heartbeats::description.eq(description),
                    heartbeats::time_zone.eq(time_zone.map(|z| z.as_str())),
                    heartbeats::updated_at.eq(diesel::dsl::now),
                ))
                .returning(HeartbeatRow::as_returning())
                .get_result::<HeartbeatRow>(conn)
                .await?;
            Ok((edited, transitions))
        })
        .await
        .map(committed)?;
    edited.try_into()
}

/// Deletes a heartbeat with its history. Returns the lookup hash of its token, which the caller
/// must announce (`tokens::announce_gone`) so ingest caches drop it; the revocation is recorded
/// here, so pollers drop it even when Redis is down.
pub async fn delete(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: HeartbeatId,
) -> Result<[u8; 32], StoreError> {
    let team = scope.team_id().as_uuid();
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let hash: Vec<u8> = diesel::delete(
            heartbeats::table
                .filter(heartbeats::team_id.eq(team))
                .filter(heartbeats::id.eq(id.as_uuid())),
        )
        .returning(heartbeats::token_hash)
        .get_result(conn)
        .await?;
        let hash: [u8; 32] = hash
            .try_into()
            .map_err(|_| StoreError::Invalid("stored token hash is not 32 bytes".into()))?;
        crate::tokens::record_revocation(conn, &hash).await?;
        Ok(hash)
    })
    .await
}

/// A status change as shown in history.
#[derive(Clone, Debug, Serialize)]
pub struct StatusChangeEntry {
    pub from_status: Status,
    pub to_status: Status,
    pub reason: String,
    pub changed_at: DateTime<Utc>,
}

pub async fn status_history(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: HeartbeatId,
    limit: i64,
) -> Result<Vec<StatusChangeEntry>, StoreError> {
    let rows: Vec<(String, String, String, DateTime<Utc>)> = status_changes::table
        .filter(status_changes::team_id.eq(scope.team_id().as_uuid()))
        .filter(status_changes::heartbeat_id.eq(id.as_uuid()))
        .filter(status_changes::changed_at.ge(scope.plan().retention_cutoff(Utc::now())))
        .order(status_changes::changed_at.desc())
        .limit(limit)
        .select((
            status_changes::from_status,
            status_changes::to_status,
            status_changes::reason,
            status_changes::changed_at,
        ))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(from, to, reason, changed_at)| {
            Ok(StatusChangeEntry {
                from_status: stored(&from)?,
                to_status: stored(&to)?,
                reason,
                changed_at,
            })
        })
        .collect()
}

/// Where a page of the heartbeat list ends: the last heartbeat's name and id (the list is
/// ordered by both). Opaque to clients: its text form is only meant to be handed back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatCursor {
    name: String,
    id: HeartbeatId,
}

impl std::fmt::Display for HeartbeatCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The id first and the name in hex: no separator can be confused with a name's text.
        write!(
            f,
            "{}.{}",
            self.id.as_uuid().simple(),
            crate::keys::hex(self.name.as_bytes())
        )
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a cursor of this list: pass the `next_cursor` of the previous page unchanged")]
pub struct BadHeartbeatCursor;

impl std::str::FromStr for HeartbeatCursor {
    type Err = BadHeartbeatCursor;
    fn from_str(s: &str) -> Result<Self, BadHeartbeatCursor> {
        let (id, name) = s.split_once('.').ok_or(BadHeartbeatCursor)?;
        let name = hex::decode(name).map_err(|_| BadHeartbeatCursor)?;
        Ok(Self {
            id: HeartbeatId::parse(id).map_err(|_| BadHeartbeatCursor)?,
            name: String::from_utf8(name).map_err(|_| BadHeartbeatCursor)?,
        })
    }
}

/// At most `limit` heartbeats of the team after `after` in (name, id) order, and the cursor of
/// the next page when there may be one (keyset pagination: heartbeats created or deleted
/// meanwhile do not shift the pages).
pub async fn list_page(
    conn: &mut PgConn,
    scope: &TeamScope,
    after: Option<HeartbeatCursor>,
    limit: i64,
) -> Result<(Vec<Heartbeat>, Option<HeartbeatCursor>), StoreError> {
    let limit = limit.max(1);
    let mut query = scoped(scope);
    if let Some(c) = after {
        query = query.filter(
            heartbeats::name.gt(c.name.clone()).or(heartbeats::name
                .eq(c.name)
                .and(heartbeats::id.gt(c.id.as_uuid()))),
        );
    }
    // One more than asked tells whether another page follows.
    let mut page: Vec<Heartbeat> = query
        .order((heartbeats::name, heartbeats::id))
        .limit(limit + 1)
        .select(HeartbeatRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Heartbeat::try_from)
        .collect::<Result<_, _>>()?;
    let more = page.len() as i64 > limit;
    page.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = match page.last() {
        Some(last) if more => Some(HeartbeatCursor {
            name: last.name.clone(),
            id: last.id,
        }),
        _ => None,
    };
    Ok((page, next))
}

/// The channels of several heartbeats of the team at once (a list page), each heartbeat's in
/// id order; a heartbeat without channels has an empty list.
pub async fn channel_ids_of(
    conn: &mut PgConn,
    scope: &TeamScope,
    ids: &[HeartbeatId],
) -> Result<std::collections::HashMap<HeartbeatId, Vec<ChannelId>>, StoreError> {
    let wanted: Vec<uuid::Uuid> = ids.iter().map(HeartbeatId::as_uuid).collect();
    let rows: Vec<(uuid::Uuid, uuid::Uuid)> = heartbeat_channels::table
        .filter(heartbeat_channels::team_id.eq(scope.team_id().as_uuid()))
        .filter(heartbeat_channels::heartbeat_id.eq_any(wanted))
        .order((
            heartbeat_channels::heartbeat_id,
            heartbeat_channels::channel_id,
        ))
        .select((
            heartbeat_channels::heartbeat_id,
            heartbeat_channels::channel_id,
        ))
        .load(conn)
        .await?;
    let mut out: std::collections::HashMap<HeartbeatId, Vec<ChannelId>> =
        ids.iter().map(|id| (*id, Vec::new())).collect();
    for (heartbeat, channel) in rows {
        out.entry(HeartbeatId::from_uuid(heartbeat))
            .or_default()
            .push(ChannelId::from_uuid(channel));
    }
    Ok(out)
}

#[cfg(test)]
mod cursor_tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_through_its_text_whatever_the_name() {
        for name in ["nightly backup", "a.b.c", "émoji ☕", ""] {
            let cursor = HeartbeatCursor {
                name: name.to_owned(),
                id: HeartbeatId::new(),
            };
            assert_eq!(cursor.to_string().parse::<HeartbeatCursor>(), Ok(cursor));
        }
        for bad in ["", "x", "nope.6162", "0190a1b2c3d4e5f60718293a4b5c6d7e.zz"] {
            assert_eq!(
                bad.parse::<HeartbeatCursor>(),
                Err(BadHeartbeatCursor),
                "{bad}"
            );
        }
    }
}
