//! Gives each test its own Postgres database and Redis key prefix, so tests run in parallel
//! against the real engines. Databases are cloned from a template migrated once per schema
//! version (`STRATEGY FILE_COPY` keeps the clone cheap), dropped when the test ends, and
//! leftovers of crashed runs are swept on the next run. Where the engines are: [`crate::engines`].

use diesel::QueryableByName;
use diesel::sql_types::{Integer, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use lifeline_settings::Source;
use lifeline_store::{PgPool, StoreSettings, pg, redis_conn};
use tokio::sync::OnceCell;

use crate::engines::{admin_database_url as admin_url, redis_url};

/// The schema version: the template is rebuilt whenever the migrations change.
const SCHEMA: &str = pg::MIGRATIONS_HASH;
const PREFIX: &str = "lifeline_test_";

/// The template's name: per schema version and per role (only a database's owner may clone a
/// database that is not marked as a template).
static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// A database and Redis prefix of one test's own. Dropping it drops the database.
pub struct TestDb {
    pub name: String,
    pub settings: StoreSettings,
    admin_url: String,
}

fn url_for(admin: &str, database: &str) -> String {
    match admin.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{database}"),
        None => format!("{admin}/{database}"),
    }
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    datname: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Integer)]
    n: i32,
}

async fn admin() -> AsyncPgConnection {
    pg::connect(&admin_url())
        .await
        .unwrap_or_else(|e| panic!("test Postgres at {} is unreachable: {e}", admin_url()))
}

async fn exec(conn: &mut AsyncPgConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Templates of other schema versions are dropped once unused for this long. Runs on other
/// branches (other migrations) share the server, so a template in use is never dropped.
const TEMPLATE_UNUSED_FOR: i64 = 86_400;

#[derive(QueryableByName)]
struct Template {
    #[diesel(sql_type = Text)]
    datname: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    used: Option<String>,
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Creates the template once per schema version, under an advisory lock so that parallel test
/// processes agree, marks it used (a database comment with the time), and sweeps what is left
/// over: databases of test processes that no longer run, and templates of other schema versions
/// unused for a day.
async fn ensure_template() -> String {
    let mut conn = admin().await;
    exec(&mut conn, "SELECT pg_advisory_lock(727274)").await;
    let role: Vec<Name> = diesel::sql_query("SELECT current_user::text AS datname")
        .load(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let role: String = role
        .into_iter()
        .map(|r| r.datname)
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let family = format!("lifeline_tpl_{role}_");
    let template = format!("{family}{SCHEMA}");
    let exists: Vec<Count> = diesel::sql_query(format!(
        "SELECT count(*)::int AS n FROM pg_database WHERE datname = '{template}'"
    ))
    .load(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    if exists.iter().map(|c| c.n).next() != Some(1) {
        let building = format!("{template}_building");
        exec(
            &mut conn,
            &format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
        )
        .await;
        exec(&mut conn, &format!("CREATE DATABASE {building}")).await;
        pg::migrate(&url_for(&admin_url(), &building))
            .await
            .unwrap_or_else(|e| panic!("migrating the template: {e}"));
        exec(
            &mut conn,
            &format!("ALTER DATABASE {building} RENAME TO {template}"),
        )
        .await;
    }
    exec(
        &mut conn,
        &format!("COMMENT ON DATABASE {template} IS '{}'", unix_now()),
    )
    .await;
    let others: Vec<Template> = diesel::sql_query(format!(
        "SELECT datname::text AS datname, shobj_description(oid, 'pg_database') AS used \
         FROM pg_database WHERE datname LIKE '{family}%' AND datname <> '{template}'"
    ))
    .load(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    for other in others {
        match other.used.and_then(|u| u.parse::<i64>().ok()) {
            Some(used) if unix_now() - used > TEMPLATE_UNUSED_FOR => {
                let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", other.datname);
                let _ = diesel::sql_query(drop).execute(&mut conn).await;
            }
            Some(_) => {}
            // Made by a version of this helper that did not mark templates: start its clock.
            None => {
                let mark = format!("COMMENT ON DATABASE {} IS '{}'", other.datname, unix_now());
                let _ = diesel::sql_query(mark).execute(&mut conn).await;
            }
        }
    }
    let leftovers: Vec<Name> = diesel::sql_query(format!(
        "SELECT datname::text AS datname FROM pg_database WHERE datname LIKE '{PREFIX}%'"
    ))
    .load(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    for db in leftovers {
        let owner_alive = db
            .datname
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|pid| pid.parse::<u32>().ok())
            .is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !owner_alive {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                db.datname
            ))
            .execute(&mut conn)
            .await;
        }
    }
    exec(&mut conn, "SELECT pg_advisory_unlock(727274)").await;
    template
}

impl TestDb {
    pub async fn new() -> TestDb {
        let template = TEMPLATE.get_or_init(ensure_template).await;
        let unique = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("{PREFIX}{}_{}", std::process::id(), &unique[..12]);
        let mut conn = admin().await;
        let create = format!("CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY");
        if let Err(e) = diesel::sql_query(&create).execute(&mut conn).await {
            // A run of an older helper on another branch may have swept the template: make it
            // again, once.
            assert!(e.to_string().contains("does not exist"), "{create}: {e}");
            ensure_template().await;
            exec(&mut conn, &create).await;
        }
        // Where this test's engines are; every other setting keeps the service's default.
        let settings = StoreSettings::from_source(&Source::from_pairs([
            ("DATABASE_URL", url_for(&admin_url(), &name)),
            ("REDIS_URL", redis_url()),
            ("LIFELINE_REDIS_PREFIX", format!("lifeline:test:{unique}:")),
            ("LIFELINE_DB_POOL_SIZE", "8".to_owned()),
        ]))
        .unwrap_or_else(|e| panic!("test engine settings: {e}"));
        TestDb {
            name,
            settings,
            admin_url: admin_url(),
        }
    }

    /// A fresh pool on this test's database.
    pub fn pool(&self) -> PgPool {
        pg::pool(&self.settings).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A single connection on this test's database.
    pub async fn conn(&self) -> AsyncPgConnection {
        pg::connect(&self.settings.database_url)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A single number from SQL: the column `n` of its one row.
    pub async fn count(&self, sql: &str) -> i64 {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::Int8)]
            n: i64,
        }
        let row: N = diesel::sql_query(sql)
            .get_result(&mut self.conn().await)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        row.n
    }

    /// A connection to Redis (keys of this test start with `settings.redis_prefix`).
    pub async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis_conn::client(&self.settings)
            .unwrap_or_else(|e| panic!("{e}"))
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|e| panic!("test Redis is unreachable: {e}"))
    }

    /// How many clients listen on the pub/sub channel `{prefix}{name}` (e.g. `wake`): a
    /// service's subscription is up when this counts it.
    pub async fn subscribers(&self, name: &str) -> i64 {
        let channel = format!("{}{name}", self.settings.redis_prefix);
        let counts: Vec<(String, i64)> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(&channel)
            .query_async(&mut self.redis().await)
            .await
            .unwrap_or_else(|e| panic!("PUBSUB NUMSUB {channel}: {e}"));
        counts.into_iter().map(|(_, n)| n).sum()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs outside async; a short-lived runtime on its own thread does the cleanup.
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let url = self.admin_url.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut conn) = pg::connect(&url).await {
                    let _ = diesel::sql_query(sql).execute(&mut conn).await;
                }
            });
        })
        .join();
    }
}

/// A plain `GET` success ping of `hb`, received at `at`, as the ping API would store it: for
/// tests that drive the store's ping path directly.
pub fn success_ping(
    hb: &lifeline_store::heartbeats::Heartbeat,
    at: chrono::DateTime<chrono::Utc>,
) -> lifeline_store::pings::NewPing {
    success_ping_of(hb.id, hb.team_id, at)
}

/// [`success_ping`] of a heartbeat known by its ids only (one made in bulk by SQL).
pub fn success_ping_of(
    heartbeat: lifeline_domain::HeartbeatId,
    team: lifeline_domain::TeamId,
    at: chrono::DateTime<chrono::Utc>,
) -> lifeline_store::pings::NewPing {
    lifeline_store::pings::NewPing {
        heartbeat,
        team,
        received: lifeline_store::pings::Received::At(at),
        kind: lifeline_domain::PingKind::Success,
        exit_code: None,
        method: "GET",
        remote_addr: None,
        user_agent: None,
        body_size: 0,
        detail: None,
    }
}
