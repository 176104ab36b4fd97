//! `TestApp`: the real ingest service (and, when asked, the scheduler) running in the test's
//! process on its own database and Redis prefix, with helpers to make teams and heartbeats and
//! to look at what the services stored.

use std::net::SocketAddr;
use std::time::Duration;

use diesel_async::AsyncPgConnection;
use lifeline_domain::{ChannelId, HeartbeatId, HeartbeatName, Plan, Schedule, Status, TeamName};
use lifeline_ingest::IngestSettings;
use lifeline_scheduler::SchedulerSettings;
use lifeline_store::channels::{self, NewChannel};
use lifeline_store::heartbeats::{self, Heartbeat, NewHeartbeat};
use lifeline_store::{RedisKeys, StoreSettings, TeamScope, redis_conn, teams, tokens};

use crate::db::TestDb;
use crate::wait::{PATIENCE, wait_for, wait_until};

/// The Redis channels whose subscriptions a started service must have before a test goes on
/// (see `lifeline_store::keys`).
const TOKEN_EVENTS: &str = "events:tokens";
const WAKE: &str = "wake";

pub struct TestApp {
    pub db: TestDb,
    /// Where the services connect: the test's database and prefix, possibly rewritten (e.g.
    /// through a chaos proxy, or with a shorter `blind_after`).
    pub store: StoreSettings,
    pub ingest: Option<lifeline_ingest::Running>,
    pub scheduler: Option<lifeline_scheduler::Running>,
    /// The dashboard, when a test started it (`start_web`).
    pub web: Option<lifeline_web::Running>,
    /// The analyzer, when a test started it (`start_analyzer`).
    pub analyzer: Option<lifeline_analyzer::Running>,
    /// Billing, when a test started it (`start_web_and_billing`).
    pub billing: Option<lifeline_billing::Running>,
    pub base: String,
    pub http: reqwest::Client,
}

/// Ingest's settings for tests: defaults, on a free port of 127.0.0.1.
pub fn local_settings() -> IngestSettings {
    IngestSettings::local(SocketAddr::from(([127, 0, 0, 1], 0)))
}

impl TestApp {
    pub async fn start() -> TestApp {
        Self::start_with(local_settings(), |s| s).await
    }

    /// Starts ingest with custom settings; `store` may rewrite where the services connect and
    /// the store's settings (the scheduler, when started, uses the same).
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
        let store = store(db.settings.clone());
        let running = lifeline_ingest::start(settings, store.clone())
            .await
            .expect("ingest starts");
        let base = format!("http://{}", running.addr);
        let app = TestApp {
            db,
            store,
            ingest: Some(running),
            scheduler: None,
            web: None,
            analyzer: None,
            billing: None,
            base,
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .unwrap(),
        };
        app.subscribed(TOKEN_EVENTS).await;
        app
    }

    /// Ingest and the scheduler with the test settings, in this process.
    pub async fn with_scheduler() -> TestApp {
        let mut app = Self::start().await;
        app.start_scheduler(app.scheduler_settings()).await;
        app
    }

    /// Waits until a service listens on the Redis channel `name`, so that caches and wake-ups
    /// behave as in production from the test's first step.
    async fn subscribed(&self, name: &str) {
        assert!(
            wait_until(PATIENCE, async || self.db.subscribers(name).await > 0).await,
            "no service subscribed to {name}"
        );
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

    /// A heartbeat named `job` expected every `interval` seconds, `grace` seconds late at most.
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

    /// `http://127.0.0.1:PORT` of ingest's ops endpoints (`/readyz`, `/metrics`).
    pub fn ops_base(&self) -> String {
        format!("http://{}", self.ingest.as_ref().unwrap().ops_addr)
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

    /// Waits until the heartbeat has `status` (or `limit` passes); returns the last status.
    pub async fn wait_status(
        &self,
        scope: &TeamScope,
        id: HeartbeatId,
        status: Status,
        limit: Duration,
    ) -> Status {
        wait_for(
            limit,
            async || self.reload(scope, id).await.timing.status,
            |s| *s == status,
        )
        .await
    }

    /// The statuses a heartbeat went through, oldest first.
    pub async fn transitions(&self, hb: HeartbeatId) -> Vec<(Status, Status)> {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        use lifeline_store::schema::status_changes as sc;
        let rows: Vec<(String, String)> = sc::table
            .filter(sc::heartbeat_id.eq(hb.as_uuid()))
            .order(sc::id)
            .select((sc::from_status, sc::to_status))
            .load(&mut self.conn().await)
            .await
            .unwrap();
        let parse = |s: &str| Status::parse(s).unwrap_or_else(|e| panic!("{e}"));
        rows.iter()
            .map(|(from, to)| (parse(from), parse(to)))
            .collect()
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
        if let Some(running) = self.web.take() {
            running.stop().await.unwrap();
        }
        if let Some(running) = self.analyzer.take() {
            running.stop().await;
        }
        if let Some(running) = self.billing.take() {
            running.stop().await.unwrap();
        }
    }

    /// Starts the analyzer (training on schedule) in this process, on `self.store`.
    pub async fn start_analyzer(&mut self) {
        let metrics = lifeline_ops::prometheus();
        let running = lifeline_analyzer::start(
            lifeline_analyzer::AnalyzerSettings::local(),
            self.store.clone(),
            metrics,
        )
        .await
        .unwrap();
        self.analyzer = Some(running);
    }

    /// Starts the dashboard on this app's engines, with ping URLs under this app's ping API and
    /// mail (invitations, resets) to `smtp_url`; returns the dashboard's base URL.
    pub async fn start_web(&mut self, smtp_url: Option<String>) -> String {
        let settings = crate::web::web_settings(&self.base);
        let notify = crate::web::notify_settings(&settings.public_url, smtp_url);
        self.start_web_with(settings, notify).await
    }

    /// Starts billing — against `stripe`, or without Stripe settings when `None` — and the
    /// dashboard that calls it, with mail (invitations, failed payments) to `smtp_url`; returns
    /// the dashboard's base URL. Billing's address is in `billing_base()`.
    pub async fn start_web_and_billing(
        &mut self,
        stripe: Option<&crate::FakeStripe>,
        smtp_url: Option<String>,
    ) -> String {
        let mut settings = crate::web::web_settings(&self.base);
        let notify = crate::web::notify_settings(&settings.public_url, smtp_url);
        let billing = lifeline_billing::BillingSettings {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            stripe: stripe.map(crate::stripe::FakeStripe::settings),
            check_every: Duration::from_millis(200),
        };
        let running = lifeline_billing::start(
            billing,
            self.store.clone(),
            notify.clone(),
            lifeline_ops::prometheus(),
        )
        .await
        .unwrap();
        settings.billing_url = format!("http://{}", running.addr);
        self.billing = Some(running);
        self.start_web_with(settings, notify).await
    }

    /// `http://127.0.0.1:PORT` of billing (the webhook and the dashboard's internal API).
    pub fn billing_base(&self) -> String {
        format!("http://{}", self.billing.as_ref().unwrap().addr)
    }

    async fn start_web_with(
        &mut self,
        settings: lifeline_web::WebSettings,
        notify: lifeline_notify::NotifySettings,
    ) -> String {
        let (running, _) = crate::web::start_dashboard(settings, self.store.clone(), notify).await;
        let base = format!("http://{}", running.addr);
        self.web = Some(running);
        base
    }

    /// Starts the scheduler (deadlines, delivery, purge) in this process, on `self.store`, and
    /// waits until it listens for wake-ups.
    pub async fn start_scheduler(&mut self, settings: SchedulerSettings) {
        let metrics = lifeline_ops::prometheus();
        let running = lifeline_scheduler::start(settings, self.store.clone(), metrics)
            .await
            .unwrap();
        self.scheduler = Some(running);
        self.subscribed(WAKE).await;
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
        let running = lifeline_ingest::start(IngestSettings::local(addr), self.store.clone())
            .await
            .unwrap();
        self.ingest = Some(running);
        self.subscribed(TOKEN_EVENTS).await;
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
                confirm_token_hash: None,
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

    /// A single number from SQL: the column `n` of its one row.
    pub async fn count(&self, sql: &str) -> i64 {
        self.db.count(sql).await
    }

    /// Waits until `sql` counts `n` (or `limit` passes) and returns the last count.
    pub async fn wait_count(&self, sql: &str, n: i64, limit: Duration) -> i64 {
        wait_for(limit, async || self.count(sql).await, |got| *got == n).await
    }
}
