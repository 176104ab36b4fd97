//! Every Redis key and channel Lifeline uses, in one place. All start with the configured prefix
//! (`LIFELINE_REDIS_PREFIX`, default `lifeline:`). Redis only holds what can be lost or rebuilt:
//!
//! | key | type | what | lifetime |
//! |---|---|---|---|
//! | `{p}tok:{sha256 hex}` | string | token → `"{heartbeat_id} {team_id}"`, or `"-"` for a token that does not (or no longer) exist | 10 min; `"-"` written on rotation is a tombstone that a racing reader cannot overwrite (readers use `SET NX`) |
//! | `{p}rl:{heartbeat_id}:{window}` | counter | pings in one rate-limit window | 2 windows |
//! | `{p}unk:{client address}:{window}` | counter | unknown-token answers to one client address in one window (`LIFELINE_UNKNOWN_TOKEN_LIMIT`) | 2 windows |
//! | `{p}events:tokens` | pub/sub channel | sha256 hex of a token whose mapping changed (rotation, creation, deletion); every ingest process drops it from its in-process cache | — |
//! | `{p}revoked:{jti}` | string | a logged-out session (dashboard); Postgres's `revoked_sessions` is the record, this the fast check | until the session would have expired |
//! | `{p}login:{account or addr}:{id}` | counter | failed logins of one account (sha256 of the email) or one client address | the login window |
//! | `{p}api:{key_id}:{minute}` | counter | management API calls of one key in one minute (`LIFELINE_API_RATE_LIMIT`) | 2 minutes |
//! | `{p}reset:{account or addr}:{id}` | counter | password reset requests for one account (sha256 of the email) or from one client address | the login window |
//! | `{p}wake` | pub/sub channel | `deadlines` (a deadline moved earlier) or `deliveries` (notifications queued): schedulers look now instead of at their next planned time | — |

use lifeline_domain::HeartbeatId;

#[derive(Clone, Debug)]
pub struct RedisKeys {
    prefix: String,
}

impl RedisKeys {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    pub fn token(&self, token_hash: &[u8; 32]) -> String {
        format!("{}tok:{}", self.prefix, hex(token_hash))
    }

    pub fn rate_limit(&self, heartbeat: HeartbeatId, window: i64) -> String {
        format!("{}rl:{}:{}", self.prefix, heartbeat, window)
    }

    pub fn unknown_tokens(&self, client: std::net::IpAddr, window: i64) -> String {
        format!("{}unk:{}:{}", self.prefix, client, window)
    }

    pub fn token_events(&self) -> String {
        format!("{}events:tokens", self.prefix)
    }

    pub fn revoked_session(&self, jti: uuid::Uuid) -> String {
        format!("{}revoked:{}", self.prefix, jti)
    }

    /// `who` is `account` or `addr`.
    pub fn login_failures(&self, who: &str, id: &str) -> String {
        format!("{}login:{}:{}", self.prefix, who, id)
    }

    /// Calls of one API key in the minute `minute` (Unix time / 60).
    pub fn api_calls(&self, key_id: uuid::Uuid, minute: i64) -> String {
        format!("{}api:{}:{}", self.prefix, key_id, minute)
    }

    /// `who` is `account` or `addr`.
    pub fn reset_requests(&self, who: &str, id: &str) -> String {
        format!("{}reset:{}:{}", self.prefix, who, id)
    }

    pub fn wake(&self) -> String {
        format!("{}wake", self.prefix)
    }
}

/// Lowercase hex, as token hashes appear in Redis keys and token events.
pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// A token hash back from its hex form; `None` unless it is exactly 32 bytes of hex.
pub fn unhex(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_the_prefix() {
        let keys = RedisKeys::new("t1:");
        assert!(keys.token(&[0xab; 32]).starts_with("t1:tok:abab"));
        assert_eq!(keys.token_events(), "t1:events:tokens");
    }

    #[test]
    fn hex_round_trips() {
        let bytes = [7u8; 32];
        assert_eq!(unhex(&hex(&bytes)), Some(bytes));
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex(&hex(&[7u8; 31])), None, "too short");
        assert_eq!(unhex(&"g".repeat(64)), None);
    }
}
