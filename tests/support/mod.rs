//! Shared by the black-box tests: a running ingest service on its own database and Redis
//! prefix, helpers to make teams and heartbeats, and a TCP proxy that can cut a connection to
//! Postgres or Redis on demand.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod chaos;
/// The SMTP server and HTTP recorder of `lifeline-notify`'s own tests.
#[path = "../../libs/notify/tests/send/support.rs"]
pub mod notify_servers;

use std::net::SocketAddr;
use std::time::Duration;

use diesel_async::AsyncPgConnection;
use lifeline_domain::{ChannelId, HeartbeatId, HeartbeatName, Plan, Schedule, TeamName};
use lifeline_ingest::IngestSettings;
use lifeline_scheduler::SchedulerSettings;
use lifeline_store::channels::{self, NewChannel};
use lifeline_store::heartbeats::{self, Heartbeat, NewHeartbeat};
use lifeline_store::testing::TestDb;
use lifeline_store::{RedisKeys, StoreSettings, TeamScope, redis_conn, teams, tokens};

pub struct TestApp {
    pub db: TestDb,
    pub ingest: Option<lifeline_ingest::Running>,
    pub scheduler: Option<lifeline_scheduler::Running>,
    pub base: String,
    pub http: reqwest::Client,
}

pub fn local_settings() -> IngestSettings {
    IngestSettings::local(SocketAddr::from(([127, 0, 0, 1], 0)))
}

impl TestApp {
    pub async fn start() -> TestApp {
        Self::start_with(local_settings(), |s| s).await
    }

    /// Starts ingest with custom settings; `store` may rewrite where it connects (e.g. through
    /// a chaos proxy).
    pub async fn start_with(
        settings: IngestSettings,
        store: impl FnOnce(StoreSettings) -> StoreSettings,
    ) -> TestApp {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_env("TEST_LOG"))
                .with_test_writer()
                .try_init();
        }
        let db = TestDb::new().await;
        let running = lifeline_ingest::start(settings, store(db.settings.clone()))
            .await
            .expect("ingest starts");
        let base = format!("http://{}", running.addr);
        // Wait until the token-events subscription is up, so caches behave as in production.
        tokio::time::sleep(Duration::from_millis(150)).await;
        TestApp {
            db,
            ingest: Some(running),
            scheduler: None,
            base,
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .unwrap(),
        }
    }

    pub async fn conn(&self) -> AsyncPgConnection {
        self.db.conn().await
    }

    pub async fn team(&self, plan: Plan) -> TeamScope {
        let mut conn = self.conn().await;
        let team = teams::create(&mut conn, &TeamName::parse("Team").unwrap(), plan)
            .await
            .unwrap();
        TeamScope::for_operator(&mut conn, team.id).await.unwrap()
    }

    pub async fn heartbeat(&self, scope: &TeamScope, interval: i64, grace: i64) -> Heartbeat {
        let mut conn = self.conn().await;
        heartbeats::create(
            &mut conn,
            scope,
            NewHeartbeat::new(
                HeartbeatName::parse("job").unwrap(),
                Schedule::from_secs(interval, grace).unwrap(),
            ),
        )
        .await
        .unwrap()
    }

    /// A team on the free plan with one hourly heartbeat.
    pub async fn hourly(&self) -> (TeamScope, Heartbeat) {
        let scope = self.team(Plan::Free).await;
        let hb = self.heartbeat(&scope, 3600, 600).await;
        (scope, hb)
    }

    pub fn url(&self, hb: &Heartbeat) -> String {
        hb.ping_url(&self.base)
    }

    /// The status of a plain GET (a success ping, or an ops endpoint).
    pub async fn get_status(&self, url: impl reqwest::IntoUrl) -> reqwest::StatusCode {
        self.http.get(url).send().await.unwrap().status()
    }

    pub async fn reload(&self, scope: &TeamScope, id: HeartbeatId) -> Heartbeat {
        heartbeats::find(&mut self.conn().await, scope, id)
            .await
            .unwrap()
    }

    pub async fn ping_count(&self, id: HeartbeatId) -> i64 {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        use lifeline_store::schema::pings;
        pings::table
            .filter(pings::heartbeat_id.eq(id.as_uuid()))
            .count()
            .get_result(&mut self.conn().await)
            .await
            .unwrap()
    }

    pub fn keys(&self) -> RedisKeys {
        RedisKeys::new(self.db.settings.redis_prefix.clone())
    }

    pub async fn announce_gone(&self, hash: &[u8; 32]) {
        let mut redis = redis_conn::connect(&self.db.settings).unwrap();
        tokens::announce_gone(&mut redis, &self.keys(), hash)
            .await
            .unwrap();
    }

    pub async fn stop(mut self) {
        if let Some(running) = self.ingest.take() {
            running.stop().await.unwrap();
        }
        if let Some(running) = self.scheduler.take() {
            running.stop().await;
        }
    }

    /// Ingest and the scheduler with the test settings, in this process.
    pub async fn with_scheduler() -> TestApp {
        let mut app = Self::start().await;
        app.start_scheduler(app.scheduler_settings()).await;
        app
    }

    /// Starts the scheduler (deadlines, delivery, purge) in this process.
    pub async fn start_scheduler(&mut self, settings: SchedulerSettings) {
        self.start_scheduler_on(settings, self.db.settings.clone())
            .await;
    }

    /// Starts the scheduler with its own view of the engines (e.g. through a chaos proxy).
    pub async fn start_scheduler_on(&mut self, settings: SchedulerSettings, store: StoreSettings) {
        let metrics = lifeline_ops::prometheus();
        let running = lifeline_scheduler::start(settings, store, metrics)
            .await
            .unwrap();
        self.scheduler = Some(running);
    }

    /// Scheduler settings for tests, with links under this app's address.
    pub fn scheduler_settings(&self) -> SchedulerSettings {
        SchedulerSettings::local(&self.base)
    }

    /// Stops ingest only (an outage of the ping API); `restart_ingest` brings it back on the
    /// same address.
    pub async fn stop_ingest(&mut self) -> SocketAddr {
        let running = self.ingest.take().unwrap();
        let addr = running.addr;
        running.stop().await.unwrap();
        addr
    }

    pub async fn restart_ingest(&mut self, addr: SocketAddr) {
        let running = lifeline_ingest::start(IngestSettings::local(addr), self.db.settings.clone())
            .await
            .unwrap();
        self.ingest = Some(running);
    }

    /// A webhook channel of the team pointing at `url`, attached to `hb`.
    pub async fn webhook(&self, scope: &TeamScope, hb: &Heartbeat, url: &str) -> ChannelId {
        self.channel(scope, hb, "webhook", url, Some("whsec_test"))
            .await
    }

    pub async fn channel(
        &self,
        scope: &TeamScope,
        hb: &Heartbeat,
        kind: &'static str,
        target: &str,
        secret: Option<&str>,
    ) -> ChannelId {
        let mut conn = self.conn().await;
        let channel = channels::create(
            &mut conn,
            scope,
            NewChannel {
                kind: kind.parse().unwrap(),
                name: kind.into(),
                target: target.into(),
                secret: secret.map(Into::into),
            },
        )
        .await
        .unwrap();
        let id = channel.id;
        heartbeats::attach(&mut conn, scope, hb.id, id)
            .await
            .unwrap();
        id
    }

    /// Runs SQL as the test (setting up times, reading state).
    pub async fn sql(&self, sql: &str) {
        use diesel_async::SimpleAsyncConnection;
        self.conn().await.batch_execute(sql).await.unwrap();
    }

    /// A single number from SQL.
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
            .unwrap();
        row.n
    }

    /// Waits until `sql` counts `n` (or `limit` passes) and returns the last count.
    pub async fn wait_count(&self, sql: &str, n: i64, limit: Duration) -> i64 {
        let until = tokio::time::Instant::now() + limit;
        loop {
            let got = self.count(sql).await;
            if got == n || tokio::time::Instant::now() >= until {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Replaces host and port of a `scheme://user@host:port/db` URL.
pub fn via(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, rest) = match rest.split_once('@') {
        Some((u, r)) => (format!("{u}@"), r),
        None => (String::new(), rest),
    };
    let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("");
    format!("{scheme}://{userinfo}{addr}{path}")
}

/// A free TCP port on 127.0.0.1 (for processes that need one up front).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
