//! `admin api-key create|revoke`.

use anyhow::anyhow;
use lifeline_store::api_keys::{self, NewApiKey};
use lifeline_store::{PgConn, TeamScope};
use serde_json::json;

use super::{record, scopes};
use crate::cli::ApiKeyCommand;

pub(super) async fn run(conn: &mut PgConn, command: ApiKeyCommand) -> anyhow::Result<()> {
    match command {
        ApiKeyCommand::Create {
            team,
            name,
            read_only,
            output,
        } => {
            let scope = scopes::team(conn, &team, "--team").await?;
            let team = scope.team_id();
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
            record(conn, &scope, "api_key.create", id, detail).await?;
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
            record(conn, &scope, "api_key.revoke", id, detail).await?;
            output.print(
                &json!({"id": id, "team_id": team, "revoked_at": key.revoked_at}),
                || format!("revoked API key {id} ({}) of team {team}", key.name),
            );
        }
    }
    Ok(())
}
