//! Alert channel changes: create.

use lifeline_domain::{ChannelKind, Role};
use lifeline_store::channels::{self, Channel, NewChannel};
use lifeline_store::{PgConn, StoreError};
use serde_json::json;

use super::{Caller, record};
use crate::state::AppState;

/// Longest channel name (a label for people).
const MAX_NAME_CHARS: usize = 100;

/// Creates a channel of the caller's team (admins and owners). The target is checked as the
/// sender will use it (an email address, or a public https URL unless private targets are
/// allowed); the name defaults to the target. A webhook channel gets a signing secret, returned
/// here and never shown again.
pub async fn create(
    state: &AppState,
    conn: &mut PgConn,
    caller: &Caller,
    kind: ChannelKind,
    target: &str,
    name: Option<&str>,
) -> Result<(Channel, Option<String>), StoreError> {
    caller.scope.require(Role::Admin, "manage channels")?;
    let allow_private = state.notifier.settings().allow_private_targets;
    let target = lifeline_notify::validate_target(kind, target, allow_private)
        .map_err(|e| StoreError::Invalid(format!("target: {e}")))?;
    let name = match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) if n.chars().count() > MAX_NAME_CHARS => {
            return Err(StoreError::Invalid(format!(
                "a channel name has at most {MAX_NAME_CHARS} characters"
            )));
        }
        Some(n) => n.to_owned(),
        None => target.clone(),
    };
    let secret = (kind == ChannelKind::Webhook).then(lifeline_notify::new_webhook_secret);
    let channel = channels::create(
        conn,
        &caller.scope,
        NewChannel {
            kind,
            name,
            target,
            secret: secret.clone(),
        },
    )
    .await?;
    record(
        conn,
        caller,
        "channel.create",
        channel.id,
        json!({ "kind": channel.kind, "name": channel.name }),
    )
    .await?;
    Ok((channel, secret))
}
