//! `admin channel create|list|show|edit|delete`. Channels are attached to heartbeats with
//! `admin heartbeat attach|detach`.

use anyhow::anyhow;
use lifeline_domain::ChannelKind;
use lifeline_store::channels::{self, Channel, ChannelChanges, NewAddress, NewChannel};
use lifeline_store::{PgConn, TeamScope};
use serde_json::json;

use super::{Output, confirmed, record, scopes, time};
use crate::Settings;
use crate::cli::{ChannelCommand, ChannelRef, TeamItems};

pub(super) async fn run(
    settings: &Settings,
    conn: &mut PgConn,
    command: ChannelCommand,
) -> anyhow::Result<()> {
    match command {
        ChannelCommand::Create {
            team,
            kind,
            target,
            name,
            output,
        } => {
            let target = checked_target(settings, kind, &target)?;
            let name = checked_name(name.as_deref(), &target)?;
            let scope = scopes::team(conn, &team, "--team").await?;
            create(settings, conn, &scope, kind, name, target, output).await?;
        }
        ChannelCommand::List(TeamItems { team, output }) => {
            let scope = scopes::team(conn, &team, "--team").await?;
            list(conn, &scope, output).await?;
        }
        ChannelCommand::Show(channel) => {
            let scope = scopes::channel(conn, channel.id).await?;
            show(conn, &scope, channel).await?;
        }
        ChannelCommand::Edit {
            channel,
            name,
            target,
        } => {
            let scope = scopes::channel(conn, channel.id).await?;
            edit(settings, conn, &scope, channel, name, target).await?;
        }
        ChannelCommand::Delete { channel, confirm } => {
            let scope = scopes::channel(conn, channel.id).await?;
            let found = channels::find(conn, &scope, channel.id).await?;
            let serves = channels::heartbeat_ids(conn, &scope, channel.id).await?;
            confirmed(
                confirm,
                &format!(
                    "{} channel {} ({}) and its delivery history; {} heartbeat(s) stop alerting it",
                    found.kind,
                    found.id,
                    found.name,
                    serves.len()
                ),
            )?;
            let deleted = channels::delete(conn, &scope, channel.id).await?;
            record(
                conn,
                &scope,
                "channel.delete",
                deleted.id,
                deleted.audit_details(),
            )
            .await?;
            channel.output.print(
                &json!({
                    "id": deleted.id,
                    "team_id": scope.team_id(),
                    "kind": deleted.kind,
                    "name": deleted.name,
                    "deleted": true,
                }),
                || format!("deleted {} channel {}", deleted.kind, deleted.id),
            );
        }
    }
    Ok(())
}

async fn create(
    settings: &Settings,
    conn: &mut PgConn,
    scope: &TeamScope,
    kind: ChannelKind,
    name: String,
    target: String,
    output: Output,
) -> anyhow::Result<()> {
    let secret = (kind == ChannelKind::Webhook).then(lifeline_notify::new_webhook_secret);
    let created = channels::create(
        conn,
        scope,
        NewChannel {
            kind,
            name,
            target,
            secret: secret.clone(),
            // The operator vouches for the address: no confirmation link.
            confirm_token_hash: None,
        },
    )
    .await?;
    warn_without_smtp(settings, &created);
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

/// An email channel made while this installation has no SMTP server would only collect failed
/// deliveries: say so now, not at the first outage.
fn warn_without_smtp(settings: &Settings, channel: &Channel) {
    if channel.kind == ChannelKind::Email && settings.scheduler.notify.smtp_url.is_none() {
        eprintln!(
            "lifeline: warning: email is not configured (LIFELINE_SMTP_URL is not set): alerts \
             to {} will fail until the scheduler runs with LIFELINE_SMTP_URL set (README, \
             \"Configuration\")",
            channel.target
        );
    }
}

async fn list(conn: &mut PgConn, scope: &TeamScope, output: Output) -> anyhow::Result<()> {
    let all = channels::overview(conn, scope).await?;
    let team = scope.team_id();
    output.print(&json!({ "team_id": team, "channels": all }), || {
        if all.is_empty() {
            return format!("team {team} has no channels");
        }
        all.iter()
            .map(|c| {
                let mut line = format!(
                    "{}  {:<7} {} ({}), {} heartbeat(s)",
                    c.channel.id,
                    c.channel.kind.to_string(),
                    c.channel.name,
                    c.channel.target,
                    c.heartbeats
                );
                if !c.channel.is_confirmed() {
                    line.push_str(", waiting for its address to confirm");
                }
                if let Some(last) = &c.last_delivery {
                    line.push_str(&format!(
                        ", last delivery {} {}",
                        last.status,
                        time(last.created_at)
                    ));
                }
                line
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

async fn show(conn: &mut PgConn, scope: &TeamScope, channel: ChannelRef) -> anyhow::Result<()> {
    let id = channel.id;
    let found = channels::overview(conn, scope)
        .await?
        .into_iter()
        .find(|c| c.channel.id == id)
        .ok_or_else(|| anyhow!("channel {id}: not found"))?;
    let heartbeats = channels::heartbeat_ids(conn, scope, id).await?;
    let mut out = serde_json::to_value(&found).unwrap_or_default();
    out["team_id"] = json!(scope.team_id());
    out["heartbeat_ids"] = json!(heartbeats);
    channel.output.print(&out, || {
        let c = &found.channel;
        let mut text = format!(
            "{} channel {} ({}), team {}\ntarget: {}\nconfirmed: {}",
            c.kind,
            c.id,
            c.name,
            scope.team_id(),
            c.target,
            c.confirmed_at
                .map_or_else(|| "no, waiting for its address".to_owned(), time)
        );
        let ids: Vec<String> = heartbeats.iter().map(ToString::to_string).collect();
        let ids = if ids.is_empty() {
            "none".to_owned()
        } else {
            ids.join(", ")
        };
        text.push_str(&format!("\nheartbeats: {ids}"));
        match &found.last_delivery {
            Some(last) => {
                text.push_str(&format!(
                    "\nlast delivery: {}, queued {}",
                    last.status,
                    time(last.created_at)
                ));
                if let Some(error) = &last.last_error {
                    text.push_str(&format!("\nlast error: {error}"));
                }
            }
            None => text.push_str("\nlast delivery: none"),
        }
        text
    });
    Ok(())
}

async fn edit(
    settings: &Settings,
    conn: &mut PgConn,
    scope: &TeamScope,
    channel: ChannelRef,
    name: Option<String>,
    target: Option<String>,
) -> anyhow::Result<()> {
    let before = channels::find(conn, scope, channel.id).await?;
    let target = target
        .map(|t| checked_target(settings, before.kind, &t))
        .transpose()?;
    let name = name
        .map(|n| checked_name(Some(&n), target.as_deref().unwrap_or(&before.target)))
        .transpose()?;
    let new_address = target.as_ref().is_some_and(|t| *t != before.target);
    let changes = ChannelChanges {
        name,
        target,
        new_address: Some(NewAddress::Vouched),
    };
    let edited = channels::edit(conn, scope, &before, changes).await?;
    let mut detail = edited.audit_details();
    detail["before"] = before.audit_details();
    record(conn, scope, "channel.edit", edited.id, detail).await?;
    if new_address {
        warn_without_smtp(settings, &edited);
    }
    let mut out = serde_json::to_value(&edited).unwrap_or_default();
    out["team_id"] = json!(scope.team_id());
    channel.output.print(&out, || {
        format!(
            "edited {} channel {}: {} ({})",
            edited.kind, edited.id, edited.name, edited.target
        )
    });
    Ok(())
}

fn checked_target(settings: &Settings, kind: ChannelKind, target: &str) -> anyhow::Result<String> {
    let allow_private = settings.scheduler.notify.allow_private_targets;
    lifeline_notify::validate_target(kind, target, allow_private)
        .map_err(|e| anyhow!("--target: {e}"))
}

/// The name to store, checked as the dashboard checks it.
fn checked_name(name: Option<&str>, target: &str) -> anyhow::Result<String> {
    channels::name_for(name, target).map_err(|e| anyhow!("--name: {e}"))
}
