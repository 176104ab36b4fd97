//! A team's alert channels. The target is checked by `lifeline-notify` before it gets here; this
//! module only stores and scopes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lifeline_domain::ChannelId;
use serde::Serialize;

use crate::schema::channels;
use crate::{PgConn, StoreError, TeamScope};

#[derive(Clone, Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = channels)]
pub struct Channel {
    pub id: uuid::Uuid,
    pub kind: String,
    pub name: String,
    pub target: String,
    /// The webhook signing secret; shown once, when the channel is created.
    #[serde(skip)]
    pub secret: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What a new channel needs; `target` and `secret` already validated.
#[derive(Clone, Debug)]
pub struct NewChannel {
    pub kind: &'static str,
    pub name: String,
    pub target: String,
    pub secret: Option<String>,
}

pub async fn create(
    conn: &mut PgConn,
    scope: &TeamScope,
    new: NewChannel,
) -> Result<Channel, StoreError> {
    Ok(diesel::insert_into(channels::table)
        .values((
            channels::id.eq(ChannelId::new().as_uuid()),
            channels::team_id.eq(scope.team_id().as_uuid()),
            channels::kind.eq(new.kind),
            channels::name.eq(new.name),
            channels::target.eq(new.target),
            channels::secret.eq(new.secret),
        ))
        .returning(Channel::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn find(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: ChannelId,
) -> Result<Channel, StoreError> {
    Ok(channels::table
        .filter(channels::team_id.eq(scope.team_id().as_uuid()))
        .filter(channels::id.eq(id.as_uuid()))
        .select(Channel::as_select())
        .first(conn)
        .await?)
}

pub async fn list(conn: &mut PgConn, scope: &TeamScope) -> Result<Vec<Channel>, StoreError> {
    Ok(channels::table
        .filter(channels::team_id.eq(scope.team_id().as_uuid()))
        .order((channels::created_at, channels::id))
        .select(Channel::as_select())
        .load(conn)
        .await?)
}
