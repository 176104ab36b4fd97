//! A team's alert channels. The target is checked by `lifeline-notify` before it gets here; this
//! module only stores and scopes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lifeline_domain::{ChannelId, ChannelKind};
use serde::Serialize;

use crate::label::stored;
use crate::schema::channels;
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
}

pub async fn create(
    conn: &mut PgConn,
    scope: &TeamScope,
    new: NewChannel,
) -> Result<Channel, StoreError> {
    diesel::insert_into(channels::table)
        .values((
            channels::id.eq(ChannelId::new().as_uuid()),
            channels::team_id.eq(scope.team_id().as_uuid()),
            channels::kind.eq(new.kind.as_str()),
            channels::name.eq(new.name),
            channels::target.eq(new.target),
            channels::secret.eq(new.secret),
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
