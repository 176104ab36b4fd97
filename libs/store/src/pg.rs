//! Postgres connections: the pool every service uses, and the embedded migrations. Every
//! connection is made here, through [`PgTarget`], so that `DATABASE_URL`'s TLS parameters hold
//! for all of them.

use std::sync::Arc;

use diesel::RunQueryDsl;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use futures_util::FutureExt;

pub use crate::pg_tls::PgTarget;
use crate::{StoreError, StoreSettings};

pub type PgPool = Pool<AsyncPgConnection>;
pub type PgConn = AsyncPgConnection;
/// A connection checked out of the pool (derefs to [`PgConn`]).
pub type PooledConn = diesel_async::pooled_connection::deadpool::Object<AsyncPgConnection>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// A fingerprint of `migrations/` (made by `build.rs`): tests rebuild their template database
/// whenever it changes.
pub const MIGRATIONS_HASH: &str = env!("LIFELINE_MIGRATIONS_HASH");

/// Builds the pool. Connections are opened lazily, so this succeeds even while Postgres is down;
/// each checkout then fails within `pg_timeout` instead of hanging (the ping API answers 503).
pub fn pool(settings: &StoreSettings) -> Result<PgPool, StoreError> {
    let target = Arc::new(target(&settings.database_url)?);
    let mut config = ManagerConfig::default();
    // The manager's URL is then unused: every connection comes from the parsed target.
    config.custom_setup = Box::new(move |_url| {
        let target = target.clone();
        async move {
            target.connect().await.map_err(|e| {
                diesel::ConnectionError::BadConnection(connect_failed(&target.server(), &e))
            })
        }
        .boxed()
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
        &settings.database_url,
        config,
    );
    Pool::builder(manager)
        .max_size(settings.pool_size)
        .wait_timeout(Some(settings.pg_timeout))
        .create_timeout(Some(settings.pg_timeout))
        .recycle_timeout(Some(settings.pg_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| StoreError::Invalid(format!("cannot build the Postgres pool: {e}")))
}

/// A connection of its own, outside the pool: the ingest writer keeps one per writer, and the
/// operator CLI needs only one.
pub async fn connect(database_url: &str) -> Result<PgConn, StoreError> {
    let target = target(database_url)?;
    target
        .connect()
        .await
        .map_err(|e| StoreError::Unavailable(connect_failed(&target.server(), &e)))
}

/// Why a connection failed, for the operator: the server it went to, and the cause in a word
/// (refused, timed out, authentication, no such database or role) before the driver's own
/// text. The URL is never repeated: it may hold the password, and the server's messages do
/// not.
fn connect_failed(server: &str, error: &diesel::ConnectionError) -> String {
    let text = match error {
        diesel::ConnectionError::BadConnection(text) => text.clone(),
        other => other.to_string(),
    };
    let lower = text.to_lowercase();
    let cause = if lower.contains("connection refused") {
        "connection refused: is Postgres running and listening there?"
    } else if lower.contains("timed out") || lower.contains("timeout") {
        "timed out: is the host reachable, and the port open?"
    } else if lower.contains("password authentication failed")
        || lower.contains("authentication failed")
        || lower.contains("no pg_hba.conf entry")
        || lower.contains("password missing")
        || lower.contains("invalid password")
    {
        "authentication failed: check the user and password in DATABASE_URL"
    } else if lower.contains("does not exist") {
        "the role or database does not exist"
    } else if lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
        || lower.contains("nodename nor servname")
    {
        "the host name does not resolve"
    } else {
        "connection failed"
    };
    format!("cannot connect to Postgres at {server} (DATABASE_URL): {cause} ({text})")
}

/// Reads `database_url` (settings have checked it already, so an error here is a caller's URL).
fn target(database_url: &str) -> Result<PgTarget, StoreError> {
    PgTarget::parse(database_url).map_err(|e| StoreError::Invalid(format!("DATABASE_URL: {e}")))
}

/// `now()`: the current transaction's start by Postgres's clock — the one clock every process
/// shares, for every time that orders events or decides something.
pub(crate) fn now() -> diesel::expression::SqlLiteral<diesel::sql_types::Timestamptz> {
    diesel::dsl::sql("now()")
}

/// A span as a Postgres `interval` (saturating at the largest one).
pub(crate) fn interval(d: chrono::Duration) -> diesel::data_types::PgInterval {
    diesel::data_types::PgInterval::from_microseconds(d.num_microseconds().unwrap_or(i64::MAX))
}

/// Whether Postgres answers a query on `conn` (readiness probes).
pub async fn ping(conn: &mut PgConn) -> Result<(), StoreError> {
    diesel_async::RunQueryDsl::execute(diesel::sql_query("SELECT 1"), conn).await?;
    Ok(())
}

/// Applies pending migrations. Diesel's harness is synchronous, so it runs on a blocking thread
/// through diesel-async's wrapper (no libpq needed), over a connection made by [`connect`].
pub async fn migrate(database_url: &str) -> Result<Vec<String>, StoreError> {
    with_harness(database_url, |conn| {
        conn.run_pending_migrations(MIGRATIONS)
            .map(|done| done.iter().map(|v| v.to_string()).collect())
    })
    .await
}

/// Reverts every migration (used by the reversibility test and `lifeline migrate --revert-all`).
pub async fn revert_all(database_url: &str) -> Result<Vec<String>, StoreError> {
    with_harness(database_url, |conn| {
        conn.revert_all_migrations(MIGRATIONS)
            .map(|done| done.iter().map(|v| v.to_string()).collect())
    })
    .await
}

type Harness = AsyncConnectionWrapper<AsyncPgConnection>;

/// Advisory lock key held while migrating ("lifeline" in ASCII, as a number).
const MIGRATION_LOCK: i64 = 0x6c69_6665_6c69_6e65;
type HarnessResult = diesel::migration::Result<Vec<String>>;

async fn with_harness(
    database_url: &str,
    work: impl FnOnce(&mut Harness) -> HarnessResult + Send + 'static,
) -> Result<Vec<String>, StoreError> {
    // Connected here, so that TLS is set up as for every other connection; the wrapper takes
    // this runtime's handle and blocks on it from the blocking thread.
    let mut conn = Harness::from(connect(database_url).await?);
    tokio::task::spawn_blocking(move || {
        // Replicas starting together (`lifeline all` migrates at start-up) take turns; the lock
        // goes with the connection.
        diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .execute(&mut conn)
            .map_err(|e| StoreError::Unavailable(format!("cannot lock for migrations: {e}")))?;
        work(&mut conn).map_err(|e| StoreError::Invalid(format!("migration failed: {e}")))
    })
    .await
    .map_err(|e| StoreError::Invalid(format!("migration task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_errors_name_the_server_and_the_cause() {
        let bad = |text: &str| diesel::ConnectionError::BadConnection(text.to_owned());
        for (text, cause) in [
            (
                "error connecting to server: Connection refused (os error 111)",
                "connection refused",
            ),
            (
                "db error: FATAL: password authentication failed for user \"lifeline\"",
                "authentication failed",
            ),
            ("error connecting to server: timed out", "timed out"),
            (
                "db error: FATAL: database \"nope\" does not exist",
                "does not exist",
            ),
        ] {
            let message = connect_failed("db.example.com:5433", &bad(text));
            assert!(
                message.starts_with("cannot connect to Postgres at db.example.com:5433"),
                "{message}"
            );
            assert!(message.contains(cause), "{message}");
        }
    }

    #[test]
    fn the_server_is_named_without_the_password() {
        let target = PgTarget::parse("postgres://u:hunter2@db.example.com:5433/x")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(target.server(), "db.example.com:5433");
        let target =
            PgTarget::parse("postgres://u@db.example.com/x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(target.server(), "db.example.com:5432");
    }
}
