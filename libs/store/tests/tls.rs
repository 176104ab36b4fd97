//! TLS to the engines (issue 12): libpq's `sslmode`/`sslrootcert` in `DATABASE_URL`, and
//! `rediss://` with `LIFELINE_REDIS_CA_FILE`, against throw-away servers that speak TLS with a
//! certificate of a test CA for `localhost` and 127.0.0.1 (`lifeline_testkit::tls_engines`).
//! The Postgres cluster refuses connections without TLS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::Bool;
use diesel_async::RunQueryDsl;
use futures_util::StreamExt;
use lifeline_settings::Source;
use lifeline_store::{PgConn, StoreSettings, pg, redis_conn};
use lifeline_testkit::tls_engines::{TlsPostgres, TlsRedis};

/// Every test here ends within this, servers' start-up included.
const LIMIT: Duration = Duration::from_secs(90);

async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, test)
        .await
        .unwrap_or_else(|_| panic!("the test took longer than {LIMIT:?}"))
}

#[derive(QueryableByName)]
struct Ssl {
    #[diesel(sql_type = Bool)]
    ssl: bool,
}

/// Whether the server sees this connection as encrypted.
async fn encrypted(conn: &mut PgConn) -> bool {
    let row: Ssl = diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .get_result(conn)
        .await
        .unwrap();
    row.ssl
}

fn query(mode: &str, root: &Path) -> String {
    format!("sslmode={mode}&sslrootcert={}", root.display())
}

/// A host name the server's certificate does not hold, reaching 127.0.0.1 through libpq's
/// `hostaddr`: the name is what TLS checks.
const WRONG_HOST: &str = "not-in-the-certificate.invalid";

#[tokio::test]
async fn sslmode_require_encrypts_without_a_root_certificate() {
    let pg = TlsPostgres::shared();
    bounded(async {
        let mut conn = pg::connect(&pg.url("127.0.0.1", "sslmode=require"))
            .await
            .unwrap();
        assert!(encrypted(&mut conn).await);
    })
    .await;
}

#[tokio::test]
async fn verify_full_accepts_a_host_the_certificate_names() {
    let pg = TlsPostgres::shared();
    bounded(async {
        for host in ["localhost", "127.0.0.1"] {
            let url = pg.url(host, &query("verify-full", &pg.certs.ca));
            let mut conn = pg::connect(&url)
                .await
                .unwrap_or_else(|e| panic!("{host}: {e}"));
            assert!(encrypted(&mut conn).await, "{host}");
        }
    })
    .await;
}

#[tokio::test]
async fn verify_full_refuses_a_host_the_certificate_does_not_name() {
    let pg = TlsPostgres::shared();
    bounded(async {
        let root = query("verify-full", &pg.certs.ca);
        let url = pg.url(WRONG_HOST, &format!("hostaddr=127.0.0.1&{root}"));
        let err = pg::connect(&url)
            .await
            .err()
            .expect("a refusal")
            .to_string();
        assert!(err.contains("TLS handshake"), "{err}");
        assert!(err.contains("not valid for name"), "{err}");

        // verify-ca checks the chain only: the same host is fine.
        let root = query("verify-ca", &pg.certs.ca);
        let url = pg.url(WRONG_HOST, &format!("hostaddr=127.0.0.1&{root}"));
        let mut conn = pg::connect(&url).await.unwrap();
        assert!(encrypted(&mut conn).await);
    })
    .await;
}

#[tokio::test]
async fn a_certificate_of_another_ca_is_refused() {
    let pg = TlsPostgres::shared();
    bounded(async {
        // As in libpq, `require` with a root certificate checks the chain too.
        for mode in ["verify-full", "verify-ca", "require"] {
            let url = pg.url("localhost", &query(mode, &pg.certs.other_ca));
            let err = pg::connect(&url)
                .await
                .err()
                .expect("a refusal")
                .to_string();
            assert!(err.contains("UnknownIssuer"), "{mode}: {err}");
        }
    })
    .await;
}

#[tokio::test]
async fn the_server_refuses_connections_without_tls() {
    let pg = TlsPostgres::shared();
    bounded(async {
        // `disable`, and a URL without `sslmode`, which connects without TLS as before.
        for query in ["sslmode=disable", ""] {
            let err = pg::connect(&pg.url("127.0.0.1", query))
                .await
                .err()
                .expect("a refusal")
                .to_string();
            assert!(err.contains("no encryption"), "{query:?}: {err}");
        }
    })
    .await;
}

#[tokio::test]
async fn password_authentication_binds_to_the_tls_channel() {
    let pg = TlsPostgres::shared();
    bounded(async {
        let mut admin = pg::connect(&pg.url("localhost", "sslmode=require"))
            .await
            .unwrap();
        diesel::sql_query(format!(
            "CREATE ROLE {} LOGIN PASSWORD 'tls-secret'",
            TlsPostgres::PASSWORD_ROLE
        ))
        .execute(&mut admin)
        .await
        .unwrap();
        // SCRAM-SHA-256-PLUS, as managed Postgres offers it: `channel_binding=require` fails
        // unless the connector hands tokio-postgres the server certificate's hash.
        let url = format!(
            "postgres://{}:tls-secret@localhost:{}/postgres?channel_binding=require&{}",
            TlsPostgres::PASSWORD_ROLE,
            pg.port,
            query("verify-full", &pg.certs.ca)
        );
        let mut conn = pg::connect(&url).await.unwrap();
        assert!(encrypted(&mut conn).await);
    })
    .await;
}

#[tokio::test]
async fn the_pool_and_the_migrations_work_over_tls() {
    let pg = TlsPostgres::shared();
    bounded(async {
        let name = format!("lifeline_tls_{}", uuid::Uuid::new_v4().simple());
        let mut admin = pg::connect(&pg.url("localhost", &query("verify-full", &pg.certs.ca)))
            .await
            .unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let url = pg.url_of(&name, "localhost", &query("verify-full", &pg.certs.ca));

        let applied = pg::migrate(&url).await.unwrap();
        assert!(!applied.is_empty());

        let settings = StoreSettings::from_source(&Source::from_pairs([
            ("DATABASE_URL", url.as_str()),
            ("LIFELINE_DB_TIMEOUT_MS", "10000"),
        ]))
        .unwrap();
        let pool = pg::pool(&settings).unwrap();
        let mut conn = pool.get().await.unwrap();
        assert!(encrypted(&mut conn).await);
        pg::ping(&mut conn).await.unwrap();
    })
    .await;
}

/// Settings for the TLS Redis server at `url`, trusting `ca` if given.
fn redis_settings(url: &str, ca: Option<&Path>) -> StoreSettings {
    let mut pairs = vec![
        ("REDIS_URL", url.to_owned()),
        // A TLS handshake on a busy test machine may take longer than the default 250 ms.
        ("LIFELINE_REDIS_TIMEOUT_MS", "5000".to_owned()),
    ];
    if let Some(ca) = ca {
        pairs.push(("LIFELINE_REDIS_CA_FILE", ca.display().to_string()));
    }
    StoreSettings::from_source(&Source::from_pairs(pairs)).unwrap()
}

async fn set_and_get(settings: &StoreSettings) -> Result<String, redis::RedisError> {
    let mut conn = redis_conn::connect(settings)?;
    redis::cmd("SET")
        .arg("tls-test")
        .arg("through TLS")
        .exec_async(&mut conn)
        .await?;
    redis::cmd("GET")
        .arg("tls-test")
        .query_async(&mut conn)
        .await
}

#[tokio::test]
async fn rediss_with_the_ca_trusted_serves_commands_and_pub_sub() {
    let redis = TlsRedis::start();
    bounded(async {
        let url = format!("rediss://127.0.0.1:{}", redis.port);
        let settings = redis_settings(&url, Some(&redis.certs.ca));
        assert_eq!(set_and_get(&settings).await.unwrap(), "through TLS");

        // Pub/sub (the ingest's token events) goes through the same client.
        let mut pubsub = redis_conn::client(&settings)
            .unwrap()
            .get_async_pubsub()
            .await
            .unwrap();
        pubsub.subscribe("tls-events").await.unwrap();
        let mut conn = redis_conn::connect(&settings).unwrap();
        redis::cmd("PUBLISH")
            .arg("tls-events")
            .arg("hello")
            .exec_async(&mut conn)
            .await
            .unwrap();
        let message = pubsub.on_message().next().await.unwrap();
        assert_eq!(message.get_payload::<String>().unwrap(), "hello");
    })
    .await;
}

#[tokio::test]
async fn rediss_refuses_a_server_whose_ca_is_not_trusted() {
    let redis = TlsRedis::start();
    bounded(async {
        let url = format!("rediss://127.0.0.1:{}", redis.port);
        // The system's roots, then another CA: neither signed the server's certificate.
        for ca in [None, Some(redis.certs.other_ca.as_path())] {
            let err = set_and_get(&redis_settings(&url, ca))
                .await
                .expect_err("a refusal")
                .to_string();
            assert!(err.contains("UnknownIssuer"), "{ca:?}: {err}");
        }
    })
    .await;
}

#[tokio::test]
async fn rediss_insecure_does_not_check_the_certificate() {
    let redis = TlsRedis::start();
    bounded(async {
        let url = format!("rediss://127.0.0.1:{}/#insecure", redis.port);
        let settings = redis_settings(&url, None);
        assert_eq!(set_and_get(&settings).await.unwrap(), "through TLS");
    })
    .await;
}
