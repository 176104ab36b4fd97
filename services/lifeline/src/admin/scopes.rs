//! Which team a command acts on: the one `--team` names (its id or its exact name), or the owner
//! of the heartbeat or channel it is given. The scope is the operator's, which every store
//! query takes like any other.

use anyhow::anyhow;
use lifeline_domain::{ChannelId, HeartbeatId, TeamId};
use lifeline_store::{PgConn, StoreError, TeamScope, channels, teams};

use crate::cli::TeamRef;

/// `option` is how the command line gave the team (`--team`, or `TEAM` for a positional
/// argument), for the message when its name is no team's or several teams'.
pub(super) async fn team(
    conn: &mut PgConn,
    team: &TeamRef,
    option: &str,
) -> anyhow::Result<TeamScope> {
    let id = match team {
        TeamRef::Id(id) => *id,
        TeamRef::Name(name) => named(conn, name)
            .await
            .map_err(|e| anyhow!("{option}: {e}"))?,
    };
    TeamScope::for_operator(conn, id)
        .await
        .map_err(|e| anyhow!("team {id}: {e}"))
}

/// Names are not unique: one match or an error that says what to give instead.
async fn named(conn: &mut PgConn, name: &str) -> anyhow::Result<TeamId> {
    match teams::named(conn, name).await?.as_slice() {
        [one] => Ok(one.id),
        [] => Err(anyhow!(
            "no team is named {name:?}: give the team's id (a UUID) or its exact name \
             (`lifeline admin team list` shows both)"
        )),
        many => {
            let ids: Vec<String> = many.iter().map(|t| t.id.to_string()).collect();
            Err(anyhow!(
                "{} teams are named {name:?} ({}): give the id of the one you mean",
                many.len(),
                ids.join(", ")
            ))
        }
    }
}

pub(super) async fn heartbeat(conn: &mut PgConn, id: HeartbeatId) -> anyhow::Result<TeamScope> {
    TeamScope::for_operator_heartbeat(conn, id)
        .await
        .map_err(|e| anyhow!("heartbeat {id}: {e}"))
}

pub(super) async fn channel(conn: &mut PgConn, id: ChannelId) -> anyhow::Result<TeamScope> {
    let team = channels::team_of(conn, id)
        .await
        .map_err(|e| anyhow!("channel {id}: {e}"))?;
    Ok(TeamScope::for_operator(conn, team).await?)
}

/// Another team's channel is "not found" in this one: say so in the option's words.
pub(super) fn no_such_channel(e: StoreError, team: impl std::fmt::Display) -> anyhow::Error {
    match e {
        StoreError::NotFound => anyhow!("--channel: no such channel in {team}"),
        e => e.into(),
    }
}
