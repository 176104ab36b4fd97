//! Token → heartbeat resolution for the ping API, and the announcements that keep every cache of
//! it honest. These lookups are unscoped on purpose: the secret token is the credential.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lifeline_domain::{HeartbeatId, TeamId};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use crate::keys::hex;
use crate::schema::{heartbeats, token_revocations};
use crate::{PgConn, RedisKeys, StoreError};

/// Where a token's pings go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenTarget {
    pub heartbeat: HeartbeatId,
    pub team: TeamId,
}

/// How long Redis keeps a token's mapping; a tombstone lives as long, so it outlives any
/// positive entry a racing reader could still write.
const POSITIVE_TTL_SECS: u64 = 600;
/// How long "no such token" is remembered: short, since a token may be created right after.
const NEGATIVE_TTL_SECS: u64 = 10;
const ABSENT: &str = "-";

/// Postgres, the source of truth.
pub async fn lookup(
    conn: &mut PgConn,
    token_hash: &[u8; 32],
) -> Result<Option<TokenTarget>, StoreError> {
    let row: Option<(uuid::Uuid, uuid::Uuid)> = heartbeats::table
        .filter(heartbeats::token_hash.eq(token_hash.as_slice()))
        .select((heartbeats::id, heartbeats::team_id))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|(hb, team)| TokenTarget {
        heartbeat: HeartbeatId::from_uuid(hb),
        team: TeamId::from_uuid(team),
    }))
}

/// Records that a token stopped working, in the caller's transaction (rotation, deletion).
pub async fn record_revocation(conn: &mut PgConn, token_hash: &[u8; 32]) -> Result<(), StoreError> {
    diesel::insert_into(token_revocations::table)
        .values(token_revocations::token_hash.eq(token_hash.as_slice()))
        .on_conflict(token_revocations::token_hash)
        .do_update()
        .set(token_revocations::revoked_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Tokens revoked after `since`, oldest first, with the time of their revocation.
pub async fn revoked_since(
    conn: &mut PgConn,
    since: DateTime<Utc>,
) -> Result<Vec<([u8; 32], DateTime<Utc>)>, StoreError> {
    let rows: Vec<(Vec<u8>, DateTime<Utc>)> = token_revocations::table
        .filter(token_revocations::revoked_at.gt(since))
        .order(token_revocations::revoked_at)
        .select((token_revocations::token_hash, token_revocations::revoked_at))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(hash, at)| Some((hash.try_into().ok()?, at)))
        .collect())
}

/// Forgets revocations older than any cache entry can be.
pub async fn prune_revocations(conn: &mut PgConn) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        token_revocations::table
            .filter(token_revocations::revoked_at.lt(Utc::now() - chrono::Duration::days(1))),
    )
    .execute(conn)
    .await?)
}

/// Writes a tombstone for a revoked token without announcing it (the revocation poller uses
/// this: every process learns from Postgres, Redis only needs its cached entry replaced).
pub async fn bury(
    redis: &mut ConnectionManager,
    keys: &RedisKeys,
    token_hash: &[u8; 32],
) -> redis::RedisResult<()> {
    redis
        .set_ex::<_, _, ()>(keys.token(token_hash), ABSENT, POSITIVE_TTL_SECS)
        .await
}

/// Redis: `Some(Some(target))` known, `Some(None)` known absent, `None` not cached.
pub async fn cached(
    redis: &mut ConnectionManager,
    keys: &RedisKeys,
    token_hash: &[u8; 32],
) -> redis::RedisResult<Option<Option<TokenTarget>>> {
    let value: Option<String> = redis.get(keys.token(token_hash)).await?;
    Ok(value.map(|v| decode(&v)))
}

fn decode(value: &str) -> Option<TokenTarget> {
    let (hb, team) = value.split_once(' ')?;
    Some(TokenTarget {
        heartbeat: HeartbeatId::parse(hb).ok()?,
        team: TeamId::parse(team).ok()?,
    })
}

/// Remembers what Postgres said, unless something is already there: `SET NX` never overwrites a
/// tombstone written by a rotation that committed after our read.
pub async fn fill_cache(
    redis: &mut ConnectionManager,
    keys: &RedisKeys,
    token_hash: &[u8; 32],
    target: Option<TokenTarget>,
) -> redis::RedisResult<()> {
    let (value, ttl) = match target {
        Some(t) => (format!("{} {}", t.heartbeat, t.team), POSITIVE_TTL_SECS),
        None => (ABSENT.to_owned(), NEGATIVE_TTL_SECS),
    };
    let opts = redis::SetOptions::default()
        .conditional_set(redis::ExistenceCheck::NX)
        .with_expiration(redis::SetExpiry::EX(ttl));
    redis
        .set_options::<_, _, ()>(keys.token(token_hash), value, opts)
        .await
}

/// Announces that `token_hash` no longer maps to what caches may hold (rotation, deletion):
/// writes a tombstone and tells every ingest process to forget it.
pub async fn announce_gone(
    redis: &mut ConnectionManager,
    keys: &RedisKeys,
    token_hash: &[u8; 32],
) -> redis::RedisResult<()> {
    gone(&mut redis::pipe(), keys, token_hash)
        .query_async::<()>(redis)
        .await
}

/// Announces a new token, so a "no such token" remembered anywhere is dropped at once.
pub async fn announce_new(
    redis: &mut ConnectionManager,
    keys: &RedisKeys,
    token_hash: &[u8; 32],
) -> redis::RedisResult<()> {
    new(&mut redis::pipe(), keys, token_hash)
        .query_async::<()>(redis)
        .await
}

/// Announces a rotation, in one round trip: the old token is gone and the new one exists.
pub async fn announce_rotated(
    redis: &mut ConnectionManager,
    keys: &RedisKeys,
    old: &[u8; 32],
    new_hash: &[u8; 32],
) -> redis::RedisResult<()> {
    let mut pipe = redis::pipe();
    gone(&mut pipe, keys, old);
    new(&mut pipe, keys, new_hash)
        .query_async::<()>(redis)
        .await
}

fn gone<'p>(
    pipe: &'p mut redis::Pipeline,
    keys: &RedisKeys,
    token_hash: &[u8; 32],
) -> &'p mut redis::Pipeline {
    pipe.set_ex(keys.token(token_hash), ABSENT, POSITIVE_TTL_SECS)
        .ignore()
        .publish(keys.token_events(), hex(token_hash))
        .ignore()
}

fn new<'p>(
    pipe: &'p mut redis::Pipeline,
    keys: &RedisKeys,
    token_hash: &[u8; 32],
) -> &'p mut redis::Pipeline {
    pipe.del(keys.token(token_hash))
        .ignore()
        .publish(keys.token_events(), hex(token_hash))
        .ignore()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_values_decode() {
        let t = TokenTarget {
            heartbeat: HeartbeatId::new(),
            team: TeamId::new(),
        };
        assert_eq!(decode(&format!("{} {}", t.heartbeat, t.team)), Some(t));
        assert_eq!(decode(ABSENT), None);
        assert_eq!(decode("garbage here"), None);
    }
}
