//! `admin heartbeat …`: create, list, show, edit, delete, attach and detach channels, rotate the
//! ping URL, pause and resume. `stats` is in `super::stats`.

use anyhow::anyhow;
use lifeline_domain::{ChannelId, HeartbeatDescription, HeartbeatName, RunLimits, Schedule};
use lifeline_store::heartbeats::{self, Heartbeat, HeartbeatChanges, NewHeartbeat};
use lifeline_store::{PgConn, TeamScope, tokens};
use serde_json::json;

use super::{
    Output, announce, announce_gone, announce_token, confirmed, duration, record, scopes,
    time_or_never, wake_scheduler,
};
use crate::Settings;
use crate::cli::{HeartbeatCommand, HeartbeatEdit, HeartbeatRef, TeamItems};

pub(super) async fn run(
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
                // The team's zone; `heartbeat edit --time-zone`, the dashboard and the API set
                // a heartbeat's own.
                time_zone: None,
                channels,
            };
            let scope = scopes::team(conn, &team, "--team").await?;
            let team = scope.team_id();
            let hb = heartbeats::create(conn, &scope, new)
                .await
                .map_err(|e| scopes::no_such_channel(e, format!("team {team}")))?;
            announce_token(settings, &hb).await?;
            output.print(&describe(settings, &hb), || {
                format!(
                    "created heartbeat {}\nping URL: {}",
                    hb.id,
                    hb.ping_url(&settings.web.ping_url)
                )
            });
        }
        HeartbeatCommand::List(TeamItems { team, output }) => {
            let scope = scopes::team(conn, &team, "--team").await?;
            list(settings, conn, &scope, output).await?;
        }
        HeartbeatCommand::Show(target) => {
            let scope = scopes::heartbeat(conn, target.id).await?;
            let hb = heartbeats::find(conn, &scope, target.id).await?;
            let channels = heartbeats::channel_ids(conn, &scope, hb.id).await?;
            let mut out = describe(settings, &hb);
            out["channels"] = json!(channels);
            target
                .output
                .print(&out, || shown(settings, &hb, &channels));
        }
        HeartbeatCommand::Edit(edit) => self::edit(settings, conn, edit).await?,
        HeartbeatCommand::Delete { heartbeat, confirm } => {
            let scope = scopes::heartbeat(conn, heartbeat.id).await?;
            let hb = heartbeats::find(conn, &scope, heartbeat.id).await?;
            confirmed(
                confirm,
                &format!(
                    "heartbeat {} ({:?}) and its history; its ping URL stops working at once",
                    hb.id, hb.name
                ),
            )?;
            delete(settings, conn, &scope, &hb, heartbeat.output).await?;
        }
        HeartbeatCommand::Attach { heartbeat, channel } => {
            let scope = scopes::heartbeat(conn, heartbeat.id).await?;
            let id = heartbeat.id;
            heartbeats::attach(conn, &scope, id, channel)
                .await
                .map_err(|e| scopes::no_such_channel(e, "the heartbeat's team"))?;
            let channels = heartbeats::channel_ids(conn, &scope, id).await?;
            heartbeat
                .output
                .print(&json!({"heartbeat_id": id, "channels": channels}), || {
                    format!("{id} alerts {} channel(s)", channels.len())
                });
        }
        HeartbeatCommand::Detach { heartbeat, channel } => {
            detach(conn, heartbeat, channel).await?;
        }
        HeartbeatCommand::Rotate(target) => rotate(settings, conn, target).await?,
        HeartbeatCommand::Pause(target) => {
            let scope = scopes::heartbeat(conn, target.id).await?;
            let hb = heartbeats::pause(conn, &scope, target.id).await?;
            print_status(settings, &hb, target.output);
        }
        HeartbeatCommand::Resume(target) => {
            let scope = scopes::heartbeat(conn, target.id).await?;
            let hb = heartbeats::resume(conn, &scope, target.id).await?;
            wake_scheduler(settings).await;
            print_status(settings, &hb, target.output);
        }
        HeartbeatCommand::Stats(target) => super::stats::run(settings, conn, target).await?,
    }
    Ok(())
}

async fn list(
    settings: &Settings,
    conn: &mut PgConn,
    scope: &TeamScope,
    output: Output,
) -> anyhow::Result<()> {
    let all = heartbeats::list(conn, scope).await?;
    let ids: Vec<_> = all.iter().map(|hb| hb.id).collect();
    let mut channels = heartbeats::channel_ids_of(conn, scope, &ids).await?;
    let listed: Vec<serde_json::Value> = all
        .iter()
        .map(|hb| {
            let mut value = describe(settings, hb);
            value["channels"] = json!(channels.remove(&hb.id).unwrap_or_default());
            value
        })
        .collect();
    let team = scope.team_id();
    output.print(&json!({ "team_id": team, "heartbeats": listed }), || {
        if all.is_empty() {
            return format!("team {team} has no heartbeats");
        }
        all.iter()
            .map(|hb| {
                let schedule = hb.schedule();
                format!(
                    "{}  {:<8} {}  (every {}, grace {}; last ping {})",
                    hb.id,
                    hb.timing.status.to_string(),
                    hb.name,
                    duration(schedule.interval_secs()),
                    duration(schedule.grace_secs()),
                    time_or_never(hb.timing.last_ping_at)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

/// `heartbeat show` for people: what it expects, where it pings, who it alerts.
fn shown(settings: &Settings, hb: &Heartbeat, channels: &[ChannelId]) -> String {
    let schedule = hb.schedule();
    let mut text = format!("heartbeat {} ({}), team {}", hb.id, hb.name, hb.team_id);
    if !hb.description.is_empty() {
        text.push_str(&format!("\ndescription: {}", hb.description));
    }
    text.push_str(&format!(
        "\nstatus: {}, last ping {}",
        hb.timing.status,
        time_or_never(hb.timing.last_ping_at)
    ));
    text.push_str(&format!(
        "\nschedule: every {}, grace {} ({} mode)",
        duration(schedule.interval_secs()),
        duration(schedule.grace_secs()),
        hb.mode
    ));
    let limits = hb.timing.limits;
    if let Some(max) = limits.max_runtime() {
        text.push_str(&format!("\nmax run time: {}", duration(max.num_seconds())));
    }
    if let Some(progress) = limits.progress_timeout() {
        text.push_str(&format!(
            "\nprogress timeout: {}",
            duration(progress.num_seconds())
        ));
    }
    match hb.time_zone {
        Some(zone) => text.push_str(&format!("\ntime zone: {zone}")),
        None => text.push_str("\ntime zone: the team's"),
    }
    text.push_str(&format!(
        "\nping URL: {}",
        hb.ping_url(&settings.web.ping_url)
    ));
    let channels: Vec<String> = channels.iter().map(ToString::to_string).collect();
    let channels = if channels.is_empty() {
        "none".to_owned()
    } else {
        channels.join(", ")
    };
    text.push_str(&format!("\nchannels: {channels}"));
    text
}

/// Applies what `heartbeat edit` was given over the heartbeat's current settings.
async fn edit(settings: &Settings, conn: &mut PgConn, edit: HeartbeatEdit) -> anyhow::Result<()> {
    let HeartbeatEdit {
        heartbeat: target,
        name,
        description,
        interval,
        grace,
        max_runtime,
        no_max_runtime,
        progress_timeout,
        no_progress_timeout,
        time_zone,
        team_time_zone,
    } = edit;
    let id = target.id;
    let scope = scopes::heartbeat(conn, id).await?;
    let current = heartbeats::find(conn, &scope, id).await?;
    let reschedule = interval.is_some()
        || grace.is_some()
        || max_runtime.is_some()
        || no_max_runtime
        || progress_timeout.is_some()
        || no_progress_timeout;
    let schedule = if reschedule {
        let (now, limits) = (current.schedule(), current.timing.limits);
        let schedule = Schedule::from_secs(
            interval.unwrap_or(now.interval_secs()),
            grace.unwrap_or(now.grace_secs()),
        )?;
        let keep = |given: Option<i64>, removed: bool, old: Option<chrono::Duration>| {
            if removed {
                None
            } else {
                given.or(old.map(|d| d.num_seconds()))
            }
        };
        let limits = RunLimits::from_secs(
            keep(max_runtime, no_max_runtime, limits.max_runtime()),
            keep(
                progress_timeout,
                no_progress_timeout,
                limits.progress_timeout(),
            ),
        )?;
        Some((schedule, limits))
    } else {
        None
    };
    let description = description
        .as_deref()
        .map(HeartbeatDescription::parse)
        .transpose()
        .map_err(|e| anyhow!("--description: {e}"))?
        .map(HeartbeatDescription::into_string);
    let changes = HeartbeatChanges {
        name: name
            .as_deref()
            .map(HeartbeatName::parse)
            .transpose()
            .map_err(|e| anyhow!("--name: {e}"))?,
        description,
        schedule,
        channels: None,
        time_zone: if team_time_zone {
            Some(None)
        } else {
            time_zone.map(Some)
        },
    };
    let hb = heartbeats::edit(conn, &scope, id, changes).await?;
    let schedule = hb.schedule();
    let detail = json!({
        "name": hb.name,
        "interval_secs": schedule.interval_secs(),
        "grace_secs": schedule.grace_secs(),
        "time_zone": hb.time_zone,
        "mode": hb.mode,
    });
    record(conn, &scope, "heartbeat.edit", id, detail).await?;
    if reschedule {
        wake_scheduler(settings).await;
    }
    let channels = heartbeats::channel_ids(conn, &scope, id).await?;
    let mut out = describe(settings, &hb);
    out["channels"] = json!(channels);
    target.output.print(&out, || {
        format!("edited heartbeat {id}\n{}", shown(settings, &hb, &channels))
    });
    Ok(())
}

/// Deletes the heartbeat; its token is announced gone, as when the dashboard deletes one, so
/// its ping URL answers 404 on every ingest process at once.
async fn delete(
    settings: &Settings,
    conn: &mut PgConn,
    scope: &TeamScope,
    hb: &Heartbeat,
    output: Output,
) -> anyhow::Result<()> {
    let hash = heartbeats::delete(conn, scope, hb.id).await?;
    record(
        conn,
        scope,
        "heartbeat.delete",
        hb.id,
        json!({ "name": hb.name }),
    )
    .await?;
    announce_gone(settings, vec![hash]).await;
    output.print(
        &json!({
            "id": hb.id,
            "team_id": hb.team_id,
            "name": hb.name,
            "deleted": true,
        }),
        || {
            format!(
                "deleted heartbeat {} ({}); its ping URL no longer works",
                hb.id, hb.name
            )
        },
    );
    Ok(())
}

/// The inverse of attach. Detaching a channel that was not attached changes nothing and says
/// so (`detached: false`), so a script may run it twice.
async fn detach(
    conn: &mut PgConn,
    heartbeat: HeartbeatRef,
    channel: ChannelId,
) -> anyhow::Result<()> {
    let id = heartbeat.id;
    let scope = scopes::heartbeat(conn, id).await?;
    let detached = heartbeats::detach(conn, &scope, id, channel)
        .await
        .map_err(|e| scopes::no_such_channel(e, "the heartbeat's team"))?;
    if detached {
        // The dashboard records (de)attachments on the channel.
        let detail = json!({ "attached": [], "detached": [id] });
        record(conn, &scope, "channel.attach", channel, detail).await?;
    }
    let channels = heartbeats::channel_ids(conn, &scope, id).await?;
    heartbeat.output.print(
        &json!({
            "heartbeat_id": id,
            "channel_id": channel,
            "detached": detached,
            "channels": channels,
        }),
        || {
            let done = if detached {
                format!("{id} no longer alerts channel {channel}")
            } else {
                format!("channel {channel} was not attached to {id}; nothing changed")
            };
            format!("{done}; it alerts {} channel(s)", channels.len())
        },
    );
    Ok(())
}

/// A new token; the old one dies on every ingest process (the announcement, or their poll).
async fn rotate(
    settings: &Settings,
    conn: &mut PgConn,
    target: HeartbeatRef,
) -> anyhow::Result<()> {
    let scope = scopes::heartbeat(conn, target.id).await?;
    let rotated = heartbeats::rotate_token(conn, &scope, target.id).await?;
    let hb = rotated.heartbeat;
    let (old, new) = (rotated.old_token_hash, hb.token_hash()?);
    // As the dashboard does: the old token dies, and an ingest process that remembers the new
    // one as unknown forgets it.
    announce(settings, |mut redis, keys| async move {
        tokens::announce_rotated(&mut redis, &keys, &old, &new).await
    })
    .await;
    target.output.print(&describe(settings, &hb), || {
        format!(
            "rotated; new ping URL: {}",
            hb.ping_url(&settings.web.ping_url)
        )
    });
    Ok(())
}

fn print_status(settings: &Settings, hb: &Heartbeat, output: Output) {
    output.print(&describe(settings, hb), || {
        format!("{} is {}", hb.id, hb.timing.status)
    });
}

/// The JSON every heartbeat command prints: the stored heartbeat, its token and ping URL.
pub(super) fn describe(settings: &Settings, hb: &Heartbeat) -> serde_json::Value {
    let mut value = serde_json::to_value(hb).unwrap_or_default();
    value["token"] = json!(hb.token);
    value["ping_url"] = json!(hb.ping_url(&settings.web.ping_url));
    value
}
