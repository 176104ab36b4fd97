//! `lifeline admin …`: operator commands for scripts. With `--json` each prints one JSON object
//! on stdout; errors go to stderr with a non-zero exit code (2 for a malformed argument).

use anyhow::{Context, anyhow};
use lifeline_domain::{ChannelKind, HeartbeatId, HeartbeatName, RunLimits, Schedule, TeamName};
use lifeline_store::api_keys::{self, NewApiKey};
use lifeline_store::audit::{self, Actor};
use lifeline_store::channels::{self, NewChannel};
use lifeline_store::heartbeats::{self, Heartbeat, NewHeartbeat};
use lifeline_store::{
    PgConn, RedisKeys, StoreError, TeamScope, incidents, pings, redis_conn, teams, tokens, wake,
};
use serde_json::json;

use crate::Settings;
use crate::cli::{
    AdminCommand, ApiKeyCommand, ChannelCommand, HeartbeatCommand, HeartbeatRef, Output,
    TeamCommand,
};

/// `team set-plan` (and its older spelling `team plan --team`).
async fn set_plan(
    settings: &Settings,
    conn: &mut PgConn,
    team: lifeline_domain::TeamId,
    plan: lifeline_domain::Plan,
    output: &Output,
) -> anyhow::Result<()> {
    let changed = lifeline_store::billing::set_plan_by_operator(conn, team, plan)
        .await
        .map_err(|e| anyhow!("team {team}: {e}"))?;
    let previous = changed.as_ref().map_or(plan, |c| c.from);
    let ai_turned_off = changed.map(|c| c.ai_turned_off).unwrap_or_default();
    // AI heartbeats the new plan does not include are back on fixed deadlines.
    if !ai_turned_off.is_empty() {
        wake_scheduler(settings).await;
    }
    output.print(
        &json!({
            "id": team,
            "plan": plan,
            "previous_plan": previous,
            "ai_turned_off": ai_turned_off,
        }),
        || {
            let mut text = format!("team {team} is now on the {plan} plan (was {previous})");
            if !ai_turned_off.is_empty() {
                text.push_str(&format!(
                    "; {} AI heartbeat(s) back on their fixed interval + grace",
                    ai_turned_off.len()
                ));
            }
            text
        },
    );
    Ok(())
}

pub async fn run(settings: &Settings, command: AdminCommand) -> anyhow::Result<()> {
    let mut conn = connect(settings).await?;
    match command {
        AdminCommand::Team(TeamCommand::Create { name, plan, output }) => {
            let team = teams::create(&mut conn, &TeamName::parse(&name)?, plan).await?;
            output.print(
                &json!({"id": team.id, "name": team.name, "plan": team.plan}),
                || {
                    format!(
                        "created team {} ({}, {} plan)",
                        team.id, team.name, team.plan
                    )
                },
            );
        }
        AdminCommand::Team(
            TeamCommand::SetPlan {
                id: team,
                plan,
                output,
            }
            | TeamCommand::Plan { team, plan, output },
        ) => set_plan(settings, &mut conn, team, plan, &output).await?,
        AdminCommand::Team(TeamCommand::Show { id, output }) => {
            let team = teams::summary(&mut conn, id)
                .await
                .map_err(|e| anyhow!("team {id}: {e}"))?;
            output.print(&json!(team), || {
                let mut text = format!(
                    "team {} ({})\nplan: {}",
                    team.id, team.name, team.billing.plan
                );
                if let (Some(next), Some(at)) = (team.billing.next_plan, team.billing.plan_ends_at)
                {
                    text.push_str(&format!(" until {at}, then {next}"));
                }
                let customer = team.billing.stripe_customer.as_deref().unwrap_or("none");
                text.push_str(&format!("\nstripe customer: {customer}"));
                if let Some(failed) = team.billing.payment_failed_at {
                    text.push_str(&format!("\npayment failed: {failed}"));
                }
                text.push_str(&format!(
                    "\nheartbeats: {}\nmembers: {}",
                    team.heartbeats, team.members
                ));
                text
            });
        }
        AdminCommand::Heartbeat(cmd) => heartbeat(settings, &mut conn, cmd).await?,
        AdminCommand::Channel(cmd) => channel(settings, &mut conn, cmd).await?,
        AdminCommand::ApiKey(cmd) => api_key(&mut conn, cmd).await?,
    }
    Ok(())
}

async fn api_key(conn: &mut PgConn, command: ApiKeyCommand) -> anyhow::Result<()> {
    match command {
        ApiKeyCommand::Create {
            team,
            name,
            read_only,
            output,
        } => {
            let scope = TeamScope::for_operator(conn, team)
                .await
                .map_err(|e| anyhow!("team {team}: {e}"))?;
            let made = lifeline_auth::ApiKey::generate();
            let id = api_keys::create(
                conn,
                &scope,
                NewApiKey {
                    name: name.clone(),
                    prefix: made.prefix.clone(),
                    hash: made.hash,
                    read_only,
                    created_by: None,
                },
            )
            .await
            .map_err(|e| anyhow!("--name: {e}"))?;
            let name = api_keys::valid_name(&name)?;
            let detail = json!({"name": name, "prefix": made.prefix, "read_only": read_only});
            audit::record(
                conn,
                &scope,
                Actor::Operator,
                "api_key.create",
                &id.to_string(),
                detail,
            )
            .await?;
            let access = if read_only { "read-only" } else { "read-write" };
            output.print(
                &json!({
                    "id": id,
                    "key": made.key,
                    "team_id": team,
                    "name": name,
                    "read_only": read_only,
                }),
                || {
                    format!(
                        "created {access} API key {id} for team {team}\n\
                         key (shown once): {}",
                        made.key
                    )
                },
            );
        }
        ApiKeyCommand::Revoke { id, output } => {
            let team = api_keys::team_of(conn, id)
                .await
                .map_err(|e| anyhow!("API key {id}: {e}"))?;
            let scope = TeamScope::for_operator(conn, team).await?;
            let key = api_keys::revoke(conn, &scope, id).await?;
            let detail = json!({"name": key.name, "prefix": key.prefix});
            audit::record(
                conn,
                &scope,
                Actor::Operator,
                "api_key.revoke",
                &id.to_string(),
                detail,
            )
            .await?;
            output.print(
                &json!({"id": id, "team_id": team, "revoked_at": key.revoked_at}),
                || format!("revoked API key {id} ({}) of team {team}", key.name),
            );
        }
    }
    Ok(())
}

async fn channel(
    settings: &Settings,
    conn: &mut PgConn,
    command: ChannelCommand,
) -> anyhow::Result<()> {
    let ChannelCommand::Create {
        team,
        kind,
        target,
        name,
        output,
    } = command;
    let allow_private = settings.scheduler.notify.allow_private_targets;
    let target = lifeline_notify::validate_target(kind, &target, allow_private)
        .map_err(|e| anyhow!("--target: {e}"))?;
    let scope = TeamScope::for_operator(conn, team)
        .await
        .map_err(|e| anyhow!("team {team}: {e}"))?;
    let secret = (kind == ChannelKind::Webhook).then(lifeline_notify::new_webhook_secret);
    let created = channels::create(
        conn,
        &scope,
        NewChannel {
            kind,
            name: name.unwrap_or_else(|| target.clone()),
            target,
            secret: secret.clone(),
            // The operator vouches for the address: no confirmation link.
            confirm_token_hash: None,
        },
    )
    .await?;
    let mut out = serde_json::to_value(&created).unwrap_or_default();
    if let Some(secret) = &secret {
        out["secret"] = json!(secret);
    }
    output.print(&out, || match &secret {
        Some(secret) => format!(
            "created {} channel {}\nsigning secret (shown once): {secret}",
            created.kind, created.id
        ),
        None => format!("created {} channel {}", created.kind, created.id),
    });
    Ok(())
}

pub(crate) async fn connect(settings: &Settings) -> anyhow::Result<PgConn> {
    lifeline_store::pg::connect(&settings.store.database_url)
        .await
        .context("DATABASE_URL")
}

/// Another team's channel is "not found" in this one: say so in the option's words.
fn no_such_channel(e: StoreError, team: impl std::fmt::Display) -> anyhow::Error {
    match e {
        StoreError::NotFound => anyhow!("--channel: no such channel in {team}"),
        e => e.into(),
    }
}

async fn heartbeat(
    settings: &Settings,
    conn: &mut PgConn,
    command: HeartbeatCommand,
) -> anyhow::Result<()> {
    match command {
        HeartbeatCommand::Create {
            team,
            name,
            interval,
            grace,
            max_runtime,
            progress_timeout,
            channels,
            output,
        } => {
            let new = NewHeartbeat {
                name: HeartbeatName::parse(&name)?,
                description: String::new(),
                schedule: Schedule::from_secs(interval, grace)?,
                limits: RunLimits::from_secs(max_runtime, progress_timeout)?,
                // The team's zone; the dashboard and the API set a heartbeat's own.
                time_zone: None,
                channels,
            };
            let scope = TeamScope::for_operator(conn, team)
                .await
                .map_err(|e| anyhow!("team {team}: {e}"))?;
            let hb = heartbeats::create(conn, &scope, new)
                .await
                .map_err(|e| no_such_channel(e, format!("team {team}")))?;
            announce_token(settings, &hb).await?;
            output.print(&describe(settings, &hb), || {
                format!(
                    "created heartbeat {}\nping URL: {}",
                    hb.id,
                    hb.ping_url(&settings.web.ping_url)
                )
            });
        }
        HeartbeatCommand::Rotate(target) => rotate(settings, conn, target).await?,
        HeartbeatCommand::Pause(target) => {
            let (scope, id) = resolve(conn, &target).await?;
            let hb = heartbeats::pause(conn, &scope, id).await?;
            print_status(settings, &hb, target.output);
        }
        HeartbeatCommand::Resume(target) => {
            let (scope, id) = resolve(conn, &target).await?;
            let hb = heartbeats::resume(conn, &scope, id).await?;
            wake_scheduler(settings).await;
            print_status(settings, &hb, target.output);
        }
        HeartbeatCommand::Attach { heartbeat, channel } => {
            let (scope, id) = resolve(conn, &heartbeat).await?;
            heartbeats::attach(conn, &scope, id, channel)
                .await
                .map_err(|e| no_such_channel(e, "the heartbeat's team"))?;
            let channels = heartbeats::channel_ids(conn, &scope, id).await?;
            heartbeat
                .output
                .print(&json!({"heartbeat_id": id, "channels": channels}), || {
                    format!("{id} alerts {} channel(s)", channels.len())
                });
        }
        HeartbeatCommand::Stats(target) => stats(settings, conn, target).await?,
    }
    Ok(())
}

/// A new token; the old one dies on every ingest process (the announcement, or their poll).
async fn rotate(
    settings: &Settings,
    conn: &mut PgConn,
    target: HeartbeatRef,
) -> anyhow::Result<()> {
    let (scope, id) = resolve(conn, &target).await?;
    let rotated = heartbeats::rotate_token(conn, &scope, id).await?;
    announce(settings, |mut redis, keys| async move {
        tokens::announce_gone(&mut redis, &keys, &rotated.old_token_hash).await
    })
    .await;
    let hb = rotated.heartbeat;
    target.output.print(&describe(settings, &hb), || {
        format!(
            "rotated; new ping URL: {}",
            hb.ping_url(&settings.web.ping_url)
        )
    });
    Ok(())
}

async fn stats(settings: &Settings, conn: &mut PgConn, target: HeartbeatRef) -> anyhow::Result<()> {
    let (scope, id) = resolve(conn, &target).await?;
    let hb = heartbeats::find(conn, &scope, id).await?;
    let stored = pings::count(conn, &scope, id).await?;
    let mut out = describe(settings, &hb);
    out["pings_stored"] = json!(stored);
    out["retention_days"] = json!(scope.plan().limits().retention_days);
    out["open_incident"] = json!(incidents::open_for(conn, &scope, id).await?);
    out["flapping"] = json!(incidents::flapping_for(conn, &scope, id).await?);
    out["last_alert"] = json!(incidents::last_alert(conn, &scope, id).await?);
    out["channels"] = json!(heartbeats::channel_ids(conn, &scope, id).await?);
    target.output.print(&out, || {
        format!(
            "{} ({}): {}, last ping {}, {stored} pings stored",
            hb.name,
            hb.id,
            hb.timing.status,
            hb.timing
                .last_ping_at
                .map_or("never".into(), |t| t.to_rfc3339())
        )
    });
    Ok(())
}

fn print_status(settings: &Settings, hb: &Heartbeat, output: Output) {
    output.print(&describe(settings, hb), || {
        format!("{} is {}", hb.id, hb.timing.status)
    });
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

/// A resumed heartbeat has a deadline again: schedulers look now, not at their next poll.
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

async fn resolve(
    conn: &mut PgConn,
    target: &HeartbeatRef,
) -> anyhow::Result<(TeamScope, HeartbeatId)> {
    let id = target.id;
    let scope = TeamScope::for_operator_heartbeat(conn, id)
        .await
        .map_err(|e| anyhow!("heartbeat {id}: {e}"))?;
    Ok((scope, id))
}

pub(crate) fn describe(settings: &Settings, hb: &Heartbeat) -> serde_json::Value {
    let mut value = serde_json::to_value(hb).unwrap_or_default();
    value["token"] = json!(hb.token);
    value["ping_url"] = json!(hb.ping_url(&settings.web.ping_url));
    value
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
