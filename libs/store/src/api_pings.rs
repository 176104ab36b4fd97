//! One page of a heartbeat's pings for the management API, newest first, by keyset pagination:
//! a page ends with a cursor naming its last ping, and the next page starts strictly after it,
//! so pings arriving meanwhile neither shift nor repeat entries. Only pings the plan still shows
//! (its retention) are listed.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lifeline_domain::HeartbeatId;

use crate::label::stored;
use crate::pings::Ping;
use crate::schema::pings;
use crate::{PgConn, StoreError, TeamScope};

/// Where a page of pings ends: the last ping's time and id (pings are ordered by both, newest
/// first). Opaque to clients: its text form is only meant to be handed back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PingCursor {
    received_at: DateTime<Utc>,
    id: i64,
}

impl PingCursor {
    fn after(ping: &Ping) -> Self {
        Self {
            received_at: ping.received_at,
            id: ping.id,
        }
    }
}

impl std::fmt::Display for PingCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.received_at.timestamp_micros(), self.id)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a cursor of this list: pass the `next_cursor` of the previous page unchanged")]
pub struct BadCursor;

impl std::str::FromStr for PingCursor {
    type Err = BadCursor;
    fn from_str(s: &str) -> Result<Self, BadCursor> {
        let (micros, id) = s.split_once('.').ok_or(BadCursor)?;
        let micros: i64 = micros.parse().map_err(|_| BadCursor)?;
        Ok(Self {
            received_at: DateTime::from_timestamp_micros(micros).ok_or(BadCursor)?,
            id: id.parse().map_err(|_| BadCursor)?,
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = pings)]
struct PageRow {
    id: i64,
    received_at: DateTime<Utc>,
    kind: String,
    exit_code: Option<i16>,
    method: String,
    remote_addr: Option<String>,
    user_agent: Option<String>,
    body_size: i64,
    duration_ms: Option<i64>,
    detail: Option<String>,
}

impl TryFrom<PageRow> for Ping {
    type Error = StoreError;
    fn try_from(r: PageRow) -> Result<Self, StoreError> {
        Ok(Ping {
            id: r.id,
            received_at: r.received_at,
            kind: stored(&r.kind)?,
            exit_code: r.exit_code,
            method: r.method,
            remote_addr: r.remote_addr,
            user_agent: r.user_agent,
            body_size: r.body_size,
            duration_ms: r.duration_ms,
            detail: r.detail,
        })
    }
}

/// At most `limit` pings of the heartbeat older than `before` (from the newest when `None`),
/// newest first, and the cursor of the next page when there may be one. A heartbeat of another
/// team has no pings here; callers that must tell "not found" look the heartbeat up first.
pub async fn pings_page(
    conn: &mut PgConn,
    scope: &TeamScope,
    heartbeat: HeartbeatId,
    before: Option<PingCursor>,
    limit: i64,
) -> Result<(Vec<Ping>, Option<PingCursor>), StoreError> {
    let limit = limit.max(1);
    let mut query = pings::table
        .filter(pings::team_id.eq(scope.team_id().as_uuid()))
        .filter(pings::heartbeat_id.eq(heartbeat.as_uuid()))
        .filter(pings::received_at.ge(scope.plan().retention_cutoff(Utc::now())))
        .into_boxed();
    if let Some(c) = before {
        query = query.filter(
            pings::received_at
                .lt(c.received_at)
                .or(pings::received_at.eq(c.received_at).and(pings::id.lt(c.id))),
        );
    }
    // One more than asked tells whether another page follows.
    let mut rows: Vec<Ping> = query
        .order((pings::received_at.desc(), pings::id.desc()))
        .limit(limit + 1)
        .select(PageRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Ping::try_from)
        .collect::<Result<_, _>>()?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = if more {
        rows.last().map(PingCursor::after)
    } else {
        None
    };
    Ok((rows, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_through_its_text() {
        let cursor = PingCursor {
            received_at: DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap_or_default(),
            id: 42,
        };
        assert_eq!(cursor.to_string().parse::<PingCursor>(), Ok(cursor));
        for bad in ["", "42", "x.1", "1.x", "1.2.3"] {
            assert_eq!(bad.parse::<PingCursor>(), Err(BadCursor), "{bad}");
        }
    }
}
