//! API key changes: create (the key is returned once) and revoke.

use lifeline_domain::Role;
use lifeline_store::api_keys::{self, ApiKeyEntry, NewApiKey};
use lifeline_store::audit::Actor;
use lifeline_store::{PgConn, StoreError};
use serde_json::json;

use super::{Caller, record};

const MANAGE: &str = "manage API keys";

/// A key just made: `key` is shown to its creator once and stored only as a hash.
#[derive(Debug)]
pub struct CreatedKey {
    pub id: uuid::Uuid,
    pub key: String,
}

pub async fn create(
    conn: &mut PgConn,
    caller: &Caller,
    name: &str,
    read_only: bool,
) -> Result<CreatedKey, StoreError> {
    caller.scope.require(Role::Admin, MANAGE)?;
    let name = api_keys::valid_name(name)?;
    let made = lifeline_auth::ApiKey::generate();
    let created_by = match caller.actor {
        Actor::User(user) => Some(user),
        _ => None,
    };
    let id = api_keys::create(
        conn,
        &caller.scope,
        NewApiKey {
            name: name.clone(),
            prefix: made.prefix.clone(),
            hash: made.hash,
            read_only,
            created_by,
        },
    )
    .await?;
    record(
        conn,
        caller,
        "api_key.create",
        id,
        json!({ "name": name, "prefix": made.prefix, "read_only": read_only }),
    )
    .await?;
    Ok(CreatedKey { id, key: made.key })
}

/// Revokes a key of the caller's team: its next call is answered 401.
pub async fn revoke(
    conn: &mut PgConn,
    caller: &Caller,
    id: uuid::Uuid,
) -> Result<ApiKeyEntry, StoreError> {
    caller.scope.require(Role::Admin, MANAGE)?;
    let key = api_keys::revoke(conn, &caller.scope, id).await?;
    record(
        conn,
        caller,
        "api_key.revoke",
        id,
        json!({ "name": key.name, "prefix": key.prefix }),
    )
    .await?;
    Ok(key)
}
