//! A team's API keys for the management API. Only the key's SHA-256 and a short prefix are
//! stored (the key itself is shown once, when made); a key is revoked, never deleted, so the
//! audit log's `api_key:<id>` actors keep a name. `TeamScope::for_api_key` turns a presented key
//! into a scope.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lifeline_domain::UserId;
use serde::Serialize;

use crate::schema::{api_keys, users};
use crate::{PgConn, StoreError, TeamScope};

/// Longest key name (the column's check).
pub const MAX_NAME_CHARS: usize = 100;

/// What a new key needs: the hash and prefix come from `lifeline_auth::ApiKey::generate()`.
#[derive(Clone, Debug)]
pub struct NewApiKey {
    pub name: String,
    pub prefix: String,
    pub hash: [u8; 32],
    pub read_only: bool,
    /// The user who made it; `None` for the operator CLI.
    pub created_by: Option<UserId>,
}

/// A key as its team sees it (never the key itself).
#[derive(Clone, Debug, Serialize)]
pub struct ApiKeyEntry {
    pub id: uuid::Uuid,
    pub name: String,
    pub prefix: String,
    pub read_only: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The email of the user who made it, while that user exists.
    pub created_by: Option<String>,
}

type EntryRow = (
    uuid::Uuid,
    String,
    String,
    bool,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<String>,
);

impl From<EntryRow> for ApiKeyEntry {
    fn from(row: EntryRow) -> Self {
        let (id, name, prefix, read_only, created_at, last_used_at, revoked_at, created_by) = row;
        ApiKeyEntry {
            id,
            name,
            prefix,
            read_only,
            created_at,
            last_used_at,
            revoked_at,
            created_by,
        }
    }
}

/// Checks a key's name: trimmed, 1 to 100 characters.
pub fn valid_name(raw: &str) -> Result<String, StoreError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(StoreError::Invalid(
            "give the key a name that says where it is used (e.g. \"deploy script\")".into(),
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(StoreError::Invalid(format!(
            "a key name has at most {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(name.to_owned())
}

/// Stores a new key of the scope's team; returns its id.
pub async fn create(
    conn: &mut PgConn,
    scope: &TeamScope,
    new: NewApiKey,
) -> Result<uuid::Uuid, StoreError> {
    let name = valid_name(&new.name)?;
    Ok(diesel::insert_into(api_keys::table)
        .values((
            api_keys::id.eq(uuid::Uuid::now_v7()),
            api_keys::team_id.eq(scope.team_id().as_uuid()),
            api_keys::name.eq(name),
            api_keys::prefix.eq(new.prefix),
            api_keys::key_hash.eq(new.hash.to_vec()),
            api_keys::read_only.eq(new.read_only),
            api_keys::created_by.eq(new.created_by.map(|u| u.as_uuid())),
        ))
        .returning(api_keys::id)
        .get_result(conn)
        .await?)
}

/// The team's keys, active ones first, newest first.
pub async fn list(conn: &mut PgConn, scope: &TeamScope) -> Result<Vec<ApiKeyEntry>, StoreError> {
    let rows: Vec<EntryRow> = api_keys::table
        .left_join(users::table.on(api_keys::created_by.eq(users::id.nullable())))
        .filter(api_keys::team_id.eq(scope.team_id().as_uuid()))
        .order((
            api_keys::revoked_at.is_not_null(),
            api_keys::created_at.desc(),
            api_keys::id.desc(),
        ))
        .select((
            api_keys::id,
            api_keys::name,
            api_keys::prefix,
            api_keys::read_only,
            api_keys::created_at,
            api_keys::last_used_at,
            api_keys::revoked_at,
            users::email.nullable(),
        ))
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(ApiKeyEntry::from).collect())
}

/// One key of the team.
pub async fn find(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: uuid::Uuid,
) -> Result<ApiKeyEntry, StoreError> {
    let row: EntryRow = api_keys::table
        .left_join(users::table.on(api_keys::created_by.eq(users::id.nullable())))
        .filter(api_keys::team_id.eq(scope.team_id().as_uuid()))
        .filter(api_keys::id.eq(id))
        .select((
            api_keys::id,
            api_keys::name,
            api_keys::prefix,
            api_keys::read_only,
            api_keys::created_at,
            api_keys::last_used_at,
            api_keys::revoked_at,
            users::email.nullable(),
        ))
        .first(conn)
        .await?;
    Ok(row.into())
}

/// Revokes a key of the team: from now on it answers 401. Revoking a revoked key keeps its
/// first revocation time. Returns the key as it is now.
pub async fn revoke(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: uuid::Uuid,
) -> Result<ApiKeyEntry, StoreError> {
    diesel::update(
        api_keys::table
            .filter(api_keys::team_id.eq(scope.team_id().as_uuid()))
            .filter(api_keys::id.eq(id))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?;
    find(conn, scope, id).await
}

/// The team a key belongs to, for the operator CLI (`admin api-key revoke ID`), which is given
/// only the key's id.
#[cfg(feature = "operator")]
pub async fn team_of(
    conn: &mut PgConn,
    id: uuid::Uuid,
) -> Result<lifeline_domain::TeamId, StoreError> {
    let team: uuid::Uuid = api_keys::table
        .find(id)
        .select(api_keys::team_id)
        .first(conn)
        .await?;
    Ok(lifeline_domain::TeamId::from_uuid(team))
}
