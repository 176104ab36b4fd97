//! `lifeline admin …`: operator commands for scripts, one module per kind of thing they manage.
//! With `--json` each prints one JSON object on stdout; errors go to stderr with a non-zero exit
//! status: 2 when the command line must change (a malformed value, as clap reports it, or a
//! deletion without `--yes`), 1 when the operation was refused (not found, a plan limit, a bad
//! name).

mod api_key;
mod channel;
mod heartbeat;
mod scopes;
mod stats;
mod team;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use lifeline_store::audit::{self, Actor};
use lifeline_store::heartbeats::Heartbeat;
use lifeline_store::{PgConn, RedisKeys, TeamScope, redis_conn, tokens, wake};

use crate::Settings;
use crate::cli::{AdminCommand, Confirm, Output};

pub async fn run(settings: &Settings, command: AdminCommand) -> anyhow::Result<()> {
    let mut conn = connect(settings).await?;
    match command {
        AdminCommand::Team(cmd) => team::run(settings, &mut conn, cmd).await,
        AdminCommand::Heartbeat(cmd) => heartbeat::run(settings, &mut conn, cmd).await,
        AdminCommand::Channel(cmd) => channel::run(settings, &mut conn, cmd).await,
        AdminCommand::ApiKey(cmd) => api_key::run(&mut conn, cmd).await,
    }
}

/// An error in the command line that only the database could reveal. `main` answers it with
/// status 2, as clap's own errors, where a refusal gets 1: scripts can tell "fix the call" from
/// "refused".
#[derive(Debug)]
pub struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// A deletion goes ahead only with `--yes`; without it, nothing is deleted and the message says
/// what would have been (`what`) and how to confirm.
fn confirmed(confirm: Confirm, what: &str) -> anyhow::Result<()> {
    if confirm.yes {
        Ok(())
    } else {
        Err(Usage(format!("nothing was deleted: add --yes to delete {what}")).into())
    }
}

pub(crate) async fn connect(settings: &Settings) -> anyhow::Result<PgConn> {
    lifeline_store::pg::connect(&settings.store.database_url)
        .await
        .context("DATABASE_URL")
}

/// Records an operator's change in the team's audit log, as the dashboard records its users'.
async fn record(
    conn: &mut PgConn,
    scope: &TeamScope,
    action: &str,
    target: impl std::fmt::Display,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    audit::record(
        conn,
        scope,
        Actor::Operator,
        action,
        &target.to_string(),
        detail,
    )
    .await?;
    Ok(())
}

/// Tells ingest processes about a new heartbeat's token, so a "no such token" they remember is
/// dropped at once. No wake-up for the scheduler: a new heartbeat has no deadline until its
/// first ping, and the ping API wakes the scheduler then.
pub(crate) async fn announce_token(settings: &Settings, hb: &Heartbeat) -> anyhow::Result<()> {
    let hash = hb.token_hash()?;
    announce(settings, |mut redis, keys| async move {
        tokens::announce_new(&mut redis, &keys, &hash).await
    })
    .await;
    Ok(())
}

/// Tells ingest processes that these tokens are gone (deleted or rotated heartbeats), so their
/// caches stop answering for them at once; their revocation poll catches up even without Redis.
async fn announce_gone(settings: &Settings, hashes: Vec<[u8; 32]>) {
    if hashes.is_empty() {
        return;
    }
    announce(settings, |mut redis, keys| async move {
        for hash in &hashes {
            tokens::announce_gone(&mut redis, &keys, hash).await?;
        }
        Ok(())
    })
    .await;
}

/// A heartbeat with a new or moved deadline: schedulers look now, not at their next poll.
async fn wake_scheduler(settings: &Settings) {
    let woken = wake::Wake {
        deadlines: true,
        deliveries: false,
    };
    announce(settings, |mut redis, keys| async move {
        wake::publish(&mut redis, &keys, woken).await;
        Ok(())
    })
    .await;
}

/// Tells the other processes over Redis. Best effort: if Redis is unreachable, ingest processes
/// have lost their subscription too and bypass their caches, and schedulers fall back to their
/// poll, so the change still takes effect; say so and go on.
async fn announce<F, Fut>(settings: &Settings, send: F)
where
    F: FnOnce(redis::aio::ConnectionManager, RedisKeys) -> Fut,
    Fut: Future<Output = redis::RedisResult<()>>,
{
    let keys = RedisKeys::new(settings.store.redis_prefix.clone());
    let result = match redis_conn::connect(&settings.store) {
        Ok(redis) => send(redis, keys).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        eprintln!("lifeline: warning: could not announce the change on Redis ({e})");
    }
}

/// An instant in the text forms: to the second, in UTC.
fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A time that may not have happened yet ("never").
fn time_or_never(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "never".to_owned(), time)
}

/// Seconds as people read them: "1 d", "1 h 30 min".
fn duration(secs: i64) -> String {
    lifeline_domain::duration::human(chrono::Duration::seconds(secs))
}

impl Output {
    /// The JSON object, or the sentence for people.
    pub(crate) fn print(self, value: &serde_json::Value, human: impl FnOnce() -> String) {
        if self.json {
            println!("{value}");
        } else {
            println!("{}", human());
        }
    }
}
