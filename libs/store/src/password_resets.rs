//! Password resets by emailed link. Only the SHA-256 of the link's secret is stored; a link
//! works once, until it expires, and using it ends every session of the user.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use lifeline_domain::UserId;

use crate::accounts::next_whole_second;
use crate::one_time::LinkState;
use crate::schema::{password_resets, users};
use crate::{PgConn, StoreError};

/// Records a reset link for `user`.
pub async fn create(
    conn: &mut PgConn,
    user: UserId,
    token_hash: &[u8; 32],
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::token_hash.eq(token_hash.as_slice()),
            password_resets::user_id.eq(user.as_uuid()),
            password_resets::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// A reset link as its holder sees it.
#[derive(Clone, Debug)]
pub struct ResetLink {
    pub user: UserId,
    pub email: String,
    pub state: LinkState,
}

/// The link whose secret hashes to `token_hash`; `NotFound` for a link that never existed.
pub async fn find(conn: &mut PgConn, token_hash: &[u8; 32]) -> Result<ResetLink, StoreError> {
    let (user, email, expires_at, used_at): (
        uuid::Uuid,
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
    ) = password_resets::table
        .inner_join(users::table.on(users::id.eq(password_resets::user_id)))
        .filter(password_resets::token_hash.eq(token_hash.as_slice()))
        .select((
            users::id,
            users::email,
            password_resets::expires_at,
            password_resets::used_at,
        ))
        .first(conn)
        .await?;
    Ok(ResetLink {
        user: UserId::from_uuid(user),
        email,
        state: LinkState::of(expires_at, used_at, Utc::now()),
    })
}

/// Uses the link: sets the new password, marks this link and the user's other unused links
/// used, and ends every session of the user. `None` when the link is not usable (any more):
/// of two concurrent uses, one wins. On success, the user and the instant from which sessions
/// count again.
pub async fn redeem(
    conn: &mut PgConn,
    token_hash: &[u8; 32],
    password_hash: &str,
) -> Result<Option<(UserId, DateTime<Utc>)>, StoreError> {
    let token_hash = token_hash.to_vec();
    let password_hash = password_hash.to_owned();
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let user: Option<uuid::Uuid> = diesel::update(
            password_resets::table
                .filter(password_resets::token_hash.eq(&token_hash))
                .filter(password_resets::used_at.is_null())
                .filter(password_resets::expires_at.gt(diesel::dsl::now)),
        )
        .set(password_resets::used_at.eq(diesel::dsl::now))
        .returning(password_resets::user_id)
        .get_result(conn)
        .await
        .optional()?;
        let Some(user) = user else {
            return Ok(None);
        };
        // Other links mailed earlier must not reset the new password behind the user's back.
        diesel::update(
            password_resets::table
                .filter(password_resets::user_id.eq(user))
                .filter(password_resets::used_at.is_null()),
        )
        .set(password_resets::used_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
        let valid_after = next_whole_second(Utc::now());
        diesel::update(users::table.find(user))
            .set((
                users::password_hash.eq(&password_hash),
                users::sessions_valid_after.eq(valid_after),
            ))
            .execute(conn)
            .await?;
        Ok(Some((UserId::from_uuid(user), valid_after)))
    })
    .await
}
