//! Channel changes: create, edit, delete, attach heartbeats, send a test, resend an email
//! address's confirmation link.
//!
//! An email channel alerts only once its address confirmed it wants to: creating one (or
//! pointing one at a new address) mails a link to `{public_url}/channels/confirm/{secret}`,
//! and only the secret's digest is stored.

use lifeline_domain::{ChannelId, ChannelKind, HeartbeatId, Role};
use lifeline_notify::SendError;
use lifeline_store::channels::{
    self, Attachments, Channel, ChannelChanges, NewAddress, NewChannel,
};
use lifeline_store::{PgConn, StoreError, audit, notifications, teams, wake};
use serde_json::json;

use super::{Caller, record};
use crate::state::AppState;

const MANAGE: &str = "manage channels";

const RESEND: &str = "channel.resend_confirmation";

/// How often an hour a channel's confirmation link may be sent again.
const MAX_RESENDS_PER_HOUR: i64 = 3;

/// How mailing a confirmation link went.
#[derive(Debug)]
pub enum Confirmation {
    /// The channel needs none (webhook, Slack, an unchanged address).
    NotNeeded,
    Sent,
    /// The channel waits for a link that did not leave: the error says why, for people.
    NotSent(SendError),
}

/// A channel made by [`create_reporting`].
#[derive(Debug)]
pub struct Created {
    pub channel: Channel,
    /// A webhook's signing secret, to show once.
    pub secret: Option<String>,
    pub confirmation: Confirmation,
}

/// Creates a channel of the caller's team. Returns it with a webhook's signing secret (shown
/// once, never again). An email channel waits for its address to confirm; when the link could
/// not be mailed, the channel still exists and its page offers to send it again.
pub async fn create(
    state: &AppState,
    conn: &mut PgConn,
    caller: &Caller,
    kind: ChannelKind,
    target: &str,
    name: Option<&str>,
) -> Result<(Channel, Option<String>), StoreError> {
    let created = create_reporting(state, conn, caller, kind, target, name).await?;
    if let Confirmation::NotSent(e) = &created.confirmation {
        tracing::warn!(channel = %created.channel.id, error = %e, "confirmation link not mailed");
    }
    Ok((created.channel, created.secret))
}

/// [`create`], telling also whether the confirmation link left (the dashboard says so).
pub async fn create_reporting(
    state: &AppState,
    conn: &mut PgConn,
    caller: &Caller,
    kind: ChannelKind,
    target: &str,
    name: Option<&str>,
) -> Result<Created, StoreError> {
    caller.scope.require(Role::Admin, MANAGE)?;
    let target = checked_target(state, kind, target)?;
    let name = channels::name_for(name, &target)?;
    let secret = (kind == ChannelKind::Webhook).then(lifeline_notify::new_webhook_secret);
    let token = (kind == ChannelKind::Email).then(lifeline_auth::secret::token);
    let channel = channels::create(
        conn,
        &caller.scope,
        NewChannel {
            kind,
            name,
            target,
            secret: secret.clone(),
            confirm_token_hash: token.as_deref().map(lifeline_auth::secret::digest),
        },
    )
    .await?;
    record(
        conn,
        caller,
        "channel.create",
        channel.id,
        channel.audit_details(),
    )
    .await?;
    let confirmation = match token {
        Some(token) => mail_confirmation(state, conn, caller, &channel, &token).await?,
        None => Confirmation::NotNeeded,
    };
    Ok(Created {
        channel,
        secret,
        confirmation,
    })
}

/// Renames a channel and/or points it somewhere else. A new email address waits for its own
/// confirmation (a confirmed channel cannot be turned into a way to mail a stranger).
pub async fn edit(
    state: &AppState,
    conn: &mut PgConn,
    caller: &Caller,
    id: ChannelId,
    name: Option<&str>,
    target: Option<&str>,
) -> Result<(Channel, Confirmation), StoreError> {
    caller.scope.require(Role::Admin, MANAGE)?;
    let before = channels::find(conn, &caller.scope, id).await?;
    let target = target
        .map(|t| checked_target(state, before.kind, t))
        .transpose()?;
    let new_target = target.as_deref().unwrap_or(&before.target);
    let name = name
        .map(|n| channels::name_for(Some(n), new_target))
        .transpose()?;
    let new_address = target.as_ref().is_some_and(|t| *t != before.target);
    let token =
        (new_address && before.kind == ChannelKind::Email).then(lifeline_auth::secret::token);
    let channel = channels::edit(
        conn,
        &caller.scope,
        &before,
        ChannelChanges {
            name,
            target,
            new_address: token
                .as_deref()
                .map(|t| NewAddress::AwaitsLink(lifeline_auth::secret::digest(t))),
        },
    )
    .await?;
    let mut detail = channel.audit_details();
    detail["before"] = before.audit_details();
    record(conn, caller, "channel.edit", id, detail).await?;
    let confirmation = match token {
        Some(token) => mail_confirmation(state, conn, caller, &channel, &token).await?,
        None => Confirmation::NotNeeded,
    };
    Ok((channel, confirmation))
}

/// Deletes a channel; its heartbeats stop alerting it, and its delivery history goes with it.
pub async fn delete(conn: &mut PgConn, caller: &Caller, id: ChannelId) -> Result<(), StoreError> {
    caller.scope.require(Role::Admin, MANAGE)?;
    let channel = channels::delete(conn, &caller.scope, id).await?;
    record(conn, caller, "channel.delete", id, channel.audit_details()).await
}

/// Makes exactly `heartbeats` the ones whose alerts go to the channel.
pub async fn attach(
    conn: &mut PgConn,
    caller: &Caller,
    id: ChannelId,
    heartbeats: &[HeartbeatId],
) -> Result<Attachments, StoreError> {
    caller.scope.require(Role::Admin, MANAGE)?;
    let changed = channels::set_heartbeats(conn, &caller.scope, id, heartbeats).await?;
    if !changed.attached.is_empty() || !changed.detached.is_empty() {
        let detail = json!({
            "attached": changed.attached,
            "detached": changed.detached,
        });
        record(conn, caller, "channel.attach", id, detail).await?;
    }
    Ok(changed)
}

/// Queues a test notification; the scheduler delivers it like an alert (same sender, retries
/// and attempt records), so the channel's page shows how it went.
pub async fn send_test(
    state: &AppState,
    conn: &mut PgConn,
    caller: &Caller,
    id: ChannelId,
) -> Result<(), StoreError> {
    caller.scope.require(Role::Admin, MANAGE)?;
    let notification = notifications::queue_test(conn, &caller.scope, id).await?;
    record(
        conn,
        caller,
        "channel.test",
        id,
        json!({ "notification_id": notification }),
    )
    .await?;
    let mut redis = state.redis.clone();
    let woken = wake::Wake {
        deadlines: false,
        deliveries: true,
    };
    wake::publish(&mut redis, &state.keys, woken).await;
    Ok(())
}

/// Mails a new confirmation link to an email channel that still waits; the old link stops
/// working.
pub async fn resend_confirmation(
    state: &AppState,
    conn: &mut PgConn,
    caller: &Caller,
    id: ChannelId,
) -> Result<(Channel, Confirmation), StoreError> {
    caller.scope.require(Role::Admin, MANAGE)?;
    // The link goes to an address that has not agreed to anything yet: a few tries, not a
    // way to flood someone's mailbox.
    let since = chrono::Utc::now() - chrono::Duration::hours(1);
    let resent = audit::count_since(conn, &caller.scope, RESEND, &id.to_string(), since).await?;
    if resent >= MAX_RESENDS_PER_HOUR {
        return Err(StoreError::Invalid(format!(
            "the confirmation link was already sent again {MAX_RESENDS_PER_HOUR} times in the \
             last hour; check the spam folder, or try again later"
        )));
    }
    let token = lifeline_auth::secret::token();
    let digest = lifeline_auth::secret::digest(&token);
    let channel = channels::renew_confirmation(conn, &caller.scope, id, digest).await?;
    record(
        conn,
        caller,
        RESEND,
        id,
        json!({ "target": channel.target }),
    )
    .await?;
    let confirmation = mail_confirmation(state, conn, caller, &channel, &token).await?;
    Ok((channel, confirmation))
}

/// The link an email address confirms with.
pub fn confirmation_link(state: &AppState, token: &str) -> String {
    format!(
        "{}/channels/confirm/{token}",
        state.settings.public_url.trim_end_matches('/')
    )
}

async fn mail_confirmation(
    state: &AppState,
    conn: &mut PgConn,
    caller: &Caller,
    channel: &Channel,
    token: &str,
) -> Result<Confirmation, StoreError> {
    let team = teams::name(conn, &caller.scope).await?;
    let subject = format!("[Lifeline] Confirm alerts for team {team}");
    let body = format!(
        "Someone in team {team} on Lifeline asked to send heartbeat alerts to this address \
         ({address}), through the channel \"{name}\".\n\
         \n\
         If you want these alerts, open this link and press Confirm:\n\
         \n\
         {link}\n\
         \n\
         If you did not expect this, ignore this email: Lifeline sends nothing to this \
         address unless it is confirmed.\n",
        address = channel.target,
        name = channel.name,
        link = confirmation_link(state, token),
    );
    Ok(
        match state
            .notifier
            .send_email(&channel.target, &subject, &body)
            .await
        {
            Ok(_) => Confirmation::Sent,
            Err(e) => Confirmation::NotSent(e),
        },
    )
}

fn checked_target(state: &AppState, kind: ChannelKind, target: &str) -> Result<String, StoreError> {
    if target.trim().is_empty() {
        return Err(StoreError::Invalid(match kind {
            ChannelKind::Email => "enter the email address to alert".to_owned(),
            _ => "enter the URL to post alerts to".to_owned(),
        }));
    }
    let allow_private = state.notifier.settings().allow_private_targets;
    lifeline_notify::validate_target(kind, target, allow_private)
        .map_err(|e| StoreError::Invalid(e.to_string()))
}
