//! A team's alert channels. The target is checked by `lifeline-notify` before it gets here; this
//! module only stores and scopes.
//!
//! An email channel made from the dashboard or the API waits for its address to confirm (a link
//! mailed to it, whose secret is stored only as a digest): until then it gets no alert, so
//! Lifeline cannot be used to mail strangers. Webhook and Slack channels, and every channel the
//! operator makes, are confirmed when created.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use lifeline_domain::{ChannelId, ChannelKind, HeartbeatId, NotificationStatus, TeamId};
use serde::Serialize;

use crate::label::stored;
use crate::schema::{channels, heartbeat_channels, heartbeats, notifications, teams};
use crate::{PgConn, StoreError, TeamScope};

#[derive(Clone, Debug, Serialize)]
pub struct Channel {
    pub id: ChannelId,
    pub kind: ChannelKind,
    pub name: String,
    pub target: String,
    /// The webhook signing secret; shown once, when the channel is created.
    #[serde(skip)]
    pub secret: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the address confirmed it wants the alerts; `None` while an email channel waits.
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl Channel {
    /// Whether the channel gets alerts: only an email address that has not confirmed yet does
    /// not.
    pub fn is_confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }

    /// What an audit entry keeps about the channel, whoever changed it (never its secret).
    pub fn audit_details(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": self.kind,
            "name": self.name,
            "target": self.target,
        })
    }
}

/// Longest channel name, in characters.
const MAX_NAME_CHARS: usize = 100;

/// The name to store for a channel: `name` trimmed, or its target when none is given. Refused
/// when too long or on several lines (it heads alert lists and the audit log).
pub fn name_for(name: Option<&str>, target: &str) -> Result<String, StoreError> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(target.to_owned());
    };
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(StoreError::Invalid(format!(
            "the name must be at most {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(
            "the name must be on one line".to_owned(),
        ));
    }
    Ok(name.to_owned())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = channels)]
struct ChannelRow {
    id: uuid::Uuid,
    kind: String,
    name: String,
    target: String,
    secret: Option<String>,
    created_at: DateTime<Utc>,
    confirmed_at: Option<DateTime<Utc>>,
}

impl TryFrom<ChannelRow> for Channel {
    type Error = StoreError;
    fn try_from(r: ChannelRow) -> Result<Self, StoreError> {
        Ok(Channel {
            id: ChannelId::from_uuid(r.id),
            kind: stored(&r.kind)?,
            name: r.name,
            target: r.target,
            secret: r.secret,
            created_at: r.created_at,
            confirmed_at: r.confirmed_at,
        })
    }
}

/// What a new channel needs; `target` and `secret` already validated.
#[derive(Clone, Debug)]
pub struct NewChannel {
    pub kind: ChannelKind,
    pub name: String,
    pub target: String,
    pub secret: Option<String>,
    /// The digest of the link's secret when the address must confirm before it gets alerts
    /// (email channels made by a team); `None` makes the channel confirmed at once.
    pub confirm_token_hash: Option<[u8; 32]>,
}

pub async fn create(
    conn: &mut PgConn,
    scope: &TeamScope,
    new: NewChannel,
) -> Result<Channel, StoreError> {
    let confirmed_at = new.confirm_token_hash.is_none().then(Utc::now);
    diesel::insert_into(channels::table)
        .values((
            channels::id.eq(ChannelId::new().as_uuid()),
            channels::team_id.eq(scope.team_id().as_uuid()),
            channels::kind.eq(new.kind.as_str()),
            channels::name.eq(new.name),
            channels::target.eq(new.target),
            channels::secret.eq(new.secret),
            channels::confirmed_at.eq(confirmed_at),
            channels::confirm_token_hash.eq(new.confirm_token_hash.map(|h| h.to_vec())),
        ))
        .returning(ChannelRow::as_returning())
        .get_result(conn)
        .await?
        .try_into()
}

pub async fn find(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: ChannelId,
) -> Result<Channel, StoreError> {
    channels::table
        .filter(channels::team_id.eq(scope.team_id().as_uuid()))
        .filter(channels::id.eq(id.as_uuid()))
        .select(ChannelRow::as_select())
        .first(conn)
        .await?
        .try_into()
}

pub async fn list(conn: &mut PgConn, scope: &TeamScope) -> Result<Vec<Channel>, StoreError> {
    channels::table
        .filter(channels::team_id.eq(scope.team_id().as_uuid()))
        .order((channels::created_at, channels::id))
        .select(ChannelRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Channel::try_from)
        .collect()
}

/// The newest notification of a channel, as the channel list shows it.
#[derive(Clone, Debug, Serialize)]
pub struct LastDelivery {
    pub status: NotificationStatus,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// A channel with how many heartbeats it serves and how its newest delivery went.
#[derive(Clone, Debug, Serialize)]
pub struct ChannelOverview {
    #[serde(flatten)]
    pub channel: Channel,
    pub heartbeats: i64,
    pub last_delivery: Option<LastDelivery>,
}

/// Every channel of the team, oldest first, with its heartbeat count and newest delivery.
pub async fn overview(
    conn: &mut PgConn,
    scope: &TeamScope,
) -> Result<Vec<ChannelOverview>, StoreError> {
    let team = scope.team_id().as_uuid();
    let all = list(conn, scope).await?;
    let counts: Vec<(uuid::Uuid, i64)> = heartbeat_channels::table
        .filter(heartbeat_channels::team_id.eq(team))
        .group_by(heartbeat_channels::channel_id)
        .select((heartbeat_channels::channel_id, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    let latest: Vec<LastRow> = notifications::table
        .filter(notifications::team_id.eq(team))
        .distinct_on(notifications::channel_id)
        .order((
            notifications::channel_id,
            notifications::created_at.desc(),
            notifications::id,
        ))
        .select((
            notifications::channel_id,
            notifications::status,
            notifications::created_at,
            notifications::sent_at,
            notifications::last_error,
        ))
        .load(conn)
        .await?;
    all.into_iter()
        .map(|channel| {
            let id = channel.id.as_uuid();
            let heartbeats = counts.iter().find(|(c, _)| *c == id).map_or(0, |(_, n)| *n);
            let last_delivery = latest
                .iter()
                .find(|row| row.0 == id)
                .map(|(_, status, created_at, sent_at, last_error)| {
                    Ok::<_, StoreError>(LastDelivery {
                        status: stored(status)?,
                        created_at: *created_at,
                        sent_at: *sent_at,
                        last_error: last_error.clone(),
                    })
                })
                .transpose()?;
            Ok(ChannelOverview {
                channel,
                heartbeats,
                last_delivery,
            })
        })
        .collect()
}

type LastRow = (
    uuid::Uuid,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<String>,
);

/// A channel's new name and target, validated by the caller. `None` keeps the current value.
#[derive(Clone, Debug, Default)]
pub struct ChannelChanges {
    pub name: Option<String>,
    pub target: Option<String>,
    /// How a new target starts out. Without it the confirmation stays as it is, which only a
    /// webhook or Slack channel may do: a confirmed email channel could otherwise be pointed at
    /// anyone's mailbox.
    pub new_address: Option<NewAddress>,
}

/// How a channel's new target starts out.
#[derive(Clone, Copy, Debug)]
pub enum NewAddress {
    /// Waiting for the confirmation link with this digest, as a new email channel does.
    AwaitsLink([u8; 32]),
    /// Confirmed at once: the operator (`lifeline admin channel edit`) vouches for the addresses
    /// it gives, as for the channels it creates. A link still pending stops working.
    Vouched,
}

/// Applies `changes` to `current`, as the caller read it from the scope's team.
pub async fn edit(
    conn: &mut PgConn,
    scope: &TeamScope,
    current: &Channel,
    changes: ChannelChanges,
) -> Result<Channel, StoreError> {
    let new_target = changes.target.filter(|t| *t != current.target);
    if current.kind == ChannelKind::Email && new_target.is_some() && changes.new_address.is_none() {
        return Err(StoreError::Invalid(
            "a new email address must confirm before it gets alerts".to_owned(),
        ));
    }
    let name = changes.name.unwrap_or_else(|| current.name.clone());
    let scoped = channels::table
        .filter(channels::team_id.eq(scope.team_id().as_uuid()))
        .filter(channels::id.eq(current.id.as_uuid()));
    let updated = match (new_target, changes.new_address) {
        (Some(target), Some(NewAddress::AwaitsLink(hash))) => {
            diesel::update(scoped)
                .set((
                    channels::name.eq(name),
                    channels::target.eq(target),
                    channels::confirmed_at.eq(None::<DateTime<Utc>>),
                    channels::confirm_token_hash.eq(hash.to_vec()),
                ))
                .returning(ChannelRow::as_returning())
                .get_result(conn)
                .await?
        }
        (Some(target), Some(NewAddress::Vouched)) => {
            diesel::update(scoped)
                .set((
                    channels::name.eq(name),
                    channels::target.eq(target),
                    channels::confirmed_at.eq(diesel::dsl::now),
                    channels::confirm_token_hash.eq(None::<Vec<u8>>),
                ))
                .returning(ChannelRow::as_returning())
                .get_result(conn)
                .await?
        }
        (target, _) => {
            let target = target.unwrap_or_else(|| current.target.clone());
            diesel::update(scoped)
                .set((channels::name.eq(name), channels::target.eq(target)))
                .returning(ChannelRow::as_returning())
                .get_result(conn)
                .await?
        }
    };
    updated.try_into()
}

/// The team a channel belongs to, for the operator CLI (`admin channel show|edit|delete ID`),
/// which is given only the channel's id.
#[cfg(feature = "operator")]
pub async fn team_of(conn: &mut PgConn, id: ChannelId) -> Result<TeamId, StoreError> {
    let team: uuid::Uuid = channels::table
        .filter(channels::id.eq(id.as_uuid()))
        .select(channels::team_id)
        .first(conn)
        .await?;
    Ok(TeamId::from_uuid(team))
}

/// Deletes a channel; its attachments and notifications go with it.
pub async fn delete(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: ChannelId,
) -> Result<Channel, StoreError> {
    diesel::delete(
        channels::table
            .filter(channels::team_id.eq(scope.team_id().as_uuid()))
            .filter(channels::id.eq(id.as_uuid())),
    )
    .returning(ChannelRow::as_returning())
    .get_result(conn)
    .await?
    .try_into()
}

/// Replaces the link of an email channel that still waits for its address (a resent
/// confirmation): the old link stops working.
pub async fn renew_confirmation(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: ChannelId,
    token_hash: [u8; 32],
) -> Result<Channel, StoreError> {
    let channel = find(conn, scope, id).await?;
    if channel.is_confirmed() {
        return Err(StoreError::Invalid(format!(
            "{} is already confirmed",
            channel.target
        )));
    }
    diesel::update(
        channels::table
            .filter(channels::team_id.eq(scope.team_id().as_uuid()))
            .filter(channels::id.eq(id.as_uuid()))
            .filter(channels::confirmed_at.is_null()),
    )
    .set(channels::confirm_token_hash.eq(token_hash.to_vec()))
    .returning(ChannelRow::as_returning())
    .get_result(conn)
    .await?
    .try_into()
}

/// A channel whose address is asked to confirm, with its team's name, as the confirmation page
/// shows it.
#[derive(Clone, Debug)]
pub struct AwaitingConfirmation {
    pub channel: Channel,
    pub team_id: TeamId,
    pub team_name: String,
}

/// The channel an emailed confirmation link stands for. Unscoped: the link's secret is the
/// credential (whoever reads the mailbox), and it is looked up by its digest only.
pub async fn awaiting_confirmation(
    conn: &mut PgConn,
    token_hash: &[u8; 32],
) -> Result<AwaitingConfirmation, StoreError> {
    let (row, team_id, team_name): (ChannelRow, uuid::Uuid, String) = channels::table
        .inner_join(teams::table)
        .filter(channels::confirm_token_hash.eq(token_hash.as_slice()))
        .filter(channels::confirmed_at.is_null())
        .select((ChannelRow::as_select(), teams::id, teams::name))
        .first(conn)
        .await?;
    Ok(AwaitingConfirmation {
        channel: row.try_into()?,
        team_id: TeamId::from_uuid(team_id),
        team_name,
    })
}

/// Confirms the address of the link with this secret's digest; the link works once. The audit
/// entry is written here, in the same transaction, because no team member is acting: the
/// address's owner is.
pub async fn confirm(
    conn: &mut PgConn,
    token_hash: &[u8; 32],
) -> Result<AwaitingConfirmation, StoreError> {
    let hash = *token_hash;
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let (row, team_id, team_name): (ChannelRow, uuid::Uuid, String) = {
            let row: ChannelRow = diesel::update(
                channels::table
                    .filter(channels::confirm_token_hash.eq(hash.as_slice()))
                    .filter(channels::confirmed_at.is_null()),
            )
            .set((
                channels::confirmed_at.eq(diesel::dsl::now),
                channels::confirm_token_hash.eq(None::<Vec<u8>>),
            ))
            .returning(ChannelRow::as_returning())
            .get_result(conn)
            .await?;
            let team: (uuid::Uuid, String) = channels::table
                .inner_join(teams::table)
                .filter(channels::id.eq(row.id))
                .select((teams::id, teams::name))
                .first(conn)
                .await?;
            (row, team.0, team.1)
        };
        let channel: Channel = row.try_into()?;
        crate::audit::record_for_team(
            conn,
            TeamId::from_uuid(team_id),
            crate::audit::Actor::System,
            "channel.confirm",
            &channel.id.to_string(),
            serde_json::json!({ "target": channel.target }),
        )
        .await?;
        Ok(AwaitingConfirmation {
            channel,
            team_id: TeamId::from_uuid(team_id),
            team_name,
        })
    })
    .await
}

/// The heartbeats whose alerts go to the channel.
pub async fn heartbeat_ids(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: ChannelId,
) -> Result<Vec<HeartbeatId>, StoreError> {
    let ids: Vec<uuid::Uuid> = heartbeat_channels::table
        .filter(heartbeat_channels::team_id.eq(scope.team_id().as_uuid()))
        .filter(heartbeat_channels::channel_id.eq(id.as_uuid()))
        .order(heartbeat_channels::heartbeat_id)
        .select(heartbeat_channels::heartbeat_id)
        .load(conn)
        .await?;
    Ok(ids.into_iter().map(HeartbeatId::from_uuid).collect())
}

/// What [`set_heartbeats`] changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attachments {
    pub attached: Vec<HeartbeatId>,
    pub detached: Vec<HeartbeatId>,
}

/// Makes exactly `wanted` the heartbeats whose alerts go to the channel. Every heartbeat must be
/// the team's (`NotFound` otherwise, and nothing changes).
pub async fn set_heartbeats(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: ChannelId,
    wanted: &[HeartbeatId],
) -> Result<Attachments, StoreError> {
    let team = scope.team_id().as_uuid();
    let mut wanted: Vec<uuid::Uuid> = wanted.iter().map(|h| h.as_uuid()).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let scope = scope.clone();
    conn.transaction::<_, StoreError, _>(async move |conn| {
        // The channel row is locked so two forms saved at once do not interleave.
        channels::table
            .filter(channels::team_id.eq(team))
            .filter(channels::id.eq(id.as_uuid()))
            .select(channels::id)
            .for_no_key_update()
            .first::<uuid::Uuid>(conn)
            .await?;
        let owned: i64 = heartbeats::table
            .filter(heartbeats::team_id.eq(team))
            .filter(heartbeats::id.eq_any(&wanted))
            .count()
            .get_result(conn)
            .await?;
        if usize::try_from(owned).ok() != Some(wanted.len()) {
            return Err(StoreError::NotFound);
        }
        let current: Vec<uuid::Uuid> = heartbeat_ids(conn, &scope, id)
            .await?
            .into_iter()
            .map(|h| h.as_uuid())
            .collect();
        let detached: Vec<uuid::Uuid> = current
            .iter()
            .filter(|h| !wanted.contains(h))
            .copied()
            .collect();
        let attached: Vec<uuid::Uuid> = wanted
            .iter()
            .filter(|h| !current.contains(h))
            .copied()
            .collect();
        if !detached.is_empty() {
            diesel::delete(
                heartbeat_channels::table
                    .filter(heartbeat_channels::team_id.eq(team))
                    .filter(heartbeat_channels::channel_id.eq(id.as_uuid()))
                    .filter(heartbeat_channels::heartbeat_id.eq_any(&detached)),
            )
            .execute(conn)
            .await?;
        }
        if !attached.is_empty() {
            let rows: Vec<_> = attached
                .iter()
                .map(|hb| {
                    (
                        heartbeat_channels::heartbeat_id.eq(*hb),
                        heartbeat_channels::channel_id.eq(id.as_uuid()),
                        heartbeat_channels::team_id.eq(team),
                    )
                })
                .collect();
            diesel::insert_into(heartbeat_channels::table)
                .values(rows)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        Ok(Attachments {
            attached: attached.into_iter().map(HeartbeatId::from_uuid).collect(),
            detached: detached.into_iter().map(HeartbeatId::from_uuid).collect(),
        })
    })
    .await
}

/// How many email channels exist, across all teams: the scheduler warns at start-up when there
/// are some and SMTP is not configured, since their alerts cannot be sent. An operator's
/// check, never a tenant's path.
pub async fn count_email(conn: &mut PgConn) -> Result<i64, StoreError> {
    Ok(channels::table
        .filter(channels::kind.eq(ChannelKind::Email.as_str()))
        .count()
        .get_result(conn)
        .await?)
}
