//! What the scheduler tells its operator, read from a real process's log lines (JSON, at INFO):
//! a normal start and a restart warn about nothing, an outage lived through is a warning with
//! its length and the heartbeats whose deadlines moved, and email channels without SMTP are a
//! warning at start-up.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use lifeline_domain::{ChannelKind, HeartbeatName, Plan, Schedule, TeamName};
use lifeline_store::channels::{self, NewChannel};
use lifeline_store::heartbeats::{self, Heartbeat, NewHeartbeat};
use lifeline_store::{StoreSettings, TeamScope, teams};
use lifeline_testkit::{Lifeline, PATIENCE, Process, Role, TestDb, free_port, wait_until};
use serde_json::Value;
use tokio::process::Child;

/// The shortest blind threshold allowed (five beacons): a hole of a few seconds is an outage.
const BLIND_AFTER: Duration = Duration::from_millis(1_000);

fn brisk(db: &TestDb) -> StoreSettings {
    let mut store = db.settings.clone();
    store.blind_after = BLIND_AFTER;
    store
}

fn lifeline(store: &StoreSettings) -> Lifeline {
    Lifeline::new(env!("CARGO_BIN_EXE_lifeline"), store)
}

/// `lifeline scheduler` with its log lines (JSON, INFO and up) going to a file.
struct LoggedScheduler {
    child: Child,
    log: PathBuf,
}

impl LoggedScheduler {
    /// Nothing at the levels an operator is alerted by.
    fn assert_calm(&self) {
        assert!(
            self.at("WARN").is_empty() && self.at("ERROR").is_empty(),
            "{:#?}",
            self.lines()
        );
    }

    async fn start(lifeline: &Lifeline, name: &str) -> Self {
        let log = std::env::temp_dir().join(format!(
            "lifeline-{name}-{}-{}.log",
            std::process::id(),
            free_port()
        ));
        let addr = format!("127.0.0.1:{}", free_port());
        let child = lifeline
            .command()
            .arg("scheduler")
            .env("LIFELINE_LOG", "info")
            .env("LIFELINE_LOG_FORMAT", "json")
            .env("LIFELINE_SCHEDULER_ADDR", &addr)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let http = reqwest::Client::new();
        let ready = wait_until(PATIENCE, async || {
            http.get(format!("http://{addr}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
        assert!(ready, "the scheduler never became ready");
        Self { child, log }
    }

    /// The log lines so far, parsed.
    fn lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    fn at(&self, level: &str) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|l| l["level"] == level)
            .collect()
    }

    /// Waits for a line whose message contains `words`.
    async fn wait_for(&self, words: &str) -> Value {
        let found = wait_until(PATIENCE, async || {
            self.lines().iter().any(|l| message(l).contains(words))
        })
        .await;
        assert!(found, "no log line with {words:?} in {:#?}", self.lines());
        self.lines()
            .into_iter()
            .find(|l| message(l).contains(words))
            .unwrap()
    }

    async fn stop(mut self) {
        self.child.kill().await.unwrap();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn message(line: &Value) -> String {
    line["fields"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn team(db: &TestDb) -> TeamScope {
    let mut conn = db.conn().await;
    let team = teams::create(&mut conn, &TeamName::parse("Team").unwrap(), Plan::Free)
        .await
        .unwrap();
    TeamScope::for_operator(&mut conn, team.id).await.unwrap()
}

/// An hourly heartbeat, pinged once through `ingest`: its deadline lies ahead, so a hole moves it.
async fn pinged_hourly(db: &TestDb, scope: &TeamScope, ingest: &Process) -> Heartbeat {
    let hb = heartbeats::create(
        &mut db.conn().await,
        scope,
        NewHeartbeat::new(
            HeartbeatName::parse("job").unwrap(),
            Schedule::from_secs(3600, 600).unwrap(),
        ),
    )
    .await
    .unwrap();
    let pinged = reqwest::get(hb.ping_url(&ingest.base())).await.unwrap();
    assert_eq!(pinged.status(), 200);
    hb
}

/// Coverage has been extended past the ping: the scheduler has seen the ingest's beacons.
async fn covered(db: &TestDb) {
    let sql = "SELECT count(*) AS n FROM coverage \
               WHERE covered_until > (SELECT max(received_at) FROM pings)";
    assert!(
        wait_until(PATIENCE, async || db.count(sql).await > 0).await,
        "coverage never reached the ping"
    );
}

async fn outages(db: &TestDb, n: i64) {
    let sql = "SELECT count(*) AS n FROM outages";
    assert!(
        wait_until(PATIENCE, async || db.count(sql).await >= n).await,
        "no outage recorded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_normal_start_and_a_restart_log_no_warning() {
    let db = TestDb::new().await;
    let store = brisk(&db);
    let lifeline = lifeline(&store);
    let scope = team(&db).await;
    let ingest = lifeline.start(Role::Ingest).await;
    let scheduler = LoggedScheduler::start(&lifeline, "normal-start").await;
    pinged_hourly(&db, &scope, &ingest).await;
    covered(&db).await;
    // Past the start-up settling time, a few passes later.
    tokio::time::sleep(BLIND_AFTER * 2).await;
    scheduler.assert_calm();
    scheduler.stop().await;
    assert!(ingest.stop().await.success());

    // Stopped for longer than the blind threshold, then started again, as an operator does:
    // the deadlines move by the stop's length, which is said, but not as a warning.
    tokio::time::sleep(BLIND_AFTER * 3).await;
    let ingest = lifeline.start(Role::Ingest).await;
    let scheduler = LoggedScheduler::start(&lifeline, "restart").await;
    outages(&db, 1).await;
    let said = scheduler.wait_for("before this start").await;
    assert_eq!(said["level"], "INFO", "{said}");
    assert_eq!(said["fields"]["shifted_heartbeats"], 1, "{said}");
    tokio::time::sleep(BLIND_AFTER * 2).await;
    scheduler.assert_calm();
    scheduler.stop().await;
    assert!(ingest.stop().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_lived_through_is_a_warning_with_its_figures() {
    let db = TestDb::new().await;
    let store = brisk(&db);
    let lifeline = lifeline(&store);
    let scope = team(&db).await;
    let ingest = lifeline.start(Role::Ingest).await;
    let scheduler = LoggedScheduler::start(&lifeline, "outage").await;
    pinged_hourly(&db, &scope, &ingest).await;
    covered(&db).await;

    // No ingest process for about three seconds while the scheduler runs.
    assert!(ingest.stop().await.success());
    tokio::time::sleep(BLIND_AFTER * 3).await;
    let ingest = lifeline.start(Role::Ingest).await;
    outages(&db, 1).await;

    let warned = scheduler.wait_for("could not receive pings for").await;
    assert_eq!(warned["level"], "WARN", "{warned}");
    let fields = &warned["fields"];
    assert_eq!(fields["shifted_heartbeats"], 1, "{warned}");
    let seconds = fields["seconds"].as_i64().unwrap();
    assert!((2..30).contains(&seconds), "{warned}");
    let text = message(&warned);
    assert!(
        text.contains("the deadlines of 1 heartbeats moved"),
        "{text}"
    );
    let recorded = db
        .count("SELECT extract(epoch FROM ended_at - started_at)::bigint AS n FROM outages")
        .await;
    assert_eq!(recorded, seconds, "the line gives the recorded length");
    scheduler.stop().await;
    assert!(ingest.stop().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_channels_without_smtp_are_a_warning_at_start_up() {
    let db = TestDb::new().await;
    let store = brisk(&db);
    let lifeline = lifeline(&store);
    let scope = team(&db).await;
    // No channel yet: nothing to say.
    let scheduler = LoggedScheduler::start(&lifeline, "no-email").await;
    scheduler.wait_for("scheduler running").await;
    assert!(scheduler.at("WARN").is_empty(), "{:#?}", scheduler.lines());
    scheduler.stop().await;

    let email = NewChannel {
        kind: ChannelKind::Email,
        name: "Ops".to_owned(),
        target: "ops@example.com".to_owned(),
        secret: None,
        confirm_token_hash: None,
    };
    channels::create(&mut db.conn().await, &scope, email)
        .await
        .unwrap();
    let scheduler = LoggedScheduler::start(&lifeline, "email").await;
    let warned = scheduler.wait_for("SMTP is not configured").await;
    assert_eq!(warned["level"], "WARN", "{warned}");
    assert!(message(&warned).contains("LIFELINE_SMTP_URL"), "{warned}");
    assert_eq!(warned["fields"]["channels"], 1, "{warned}");
    scheduler.stop().await;

    // With SMTP configured, no warning.
    let with_smtp = lifeline.env("LIFELINE_SMTP_URL", "smtp://127.0.0.1:2525");
    let scheduler = LoggedScheduler::start(&with_smtp, "smtp").await;
    scheduler.wait_for("scheduler running").await;
    assert!(scheduler.at("WARN").is_empty(), "{:#?}", scheduler.lines());
    scheduler.stop().await;
}

/// An incident the deadline pass opens is an INFO line with its cause; an alert given up (here
/// refused for good: the webhook is on a private address the operator did not allow) is a
/// warning whose detail names the address and the setting that would allow it, while the team's
/// delivery log keeps the safe summary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_opened_and_an_alert_given_up_are_told_to_the_operator() {
    use lifeline_testkit::{HttpServer, TestApp};

    let app = TestApp::start().await;
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, 1, 0).await;
    let hook = HttpServer::ok().await;
    app.webhook(&scope, &hb, &hook.url("/hook")).await;
    let scheduler = LoggedScheduler::start(&lifeline(&app.db.settings), "given-up").await;
    assert_eq!(app.get_status(app.url(&hb)).await, 200);

    let opened = scheduler.wait_for("incident opened").await;
    assert_eq!(opened["level"], "INFO", "{opened}");
    assert_eq!(opened["fields"]["cause"], "silence", "{opened}");
    assert_eq!(opened["fields"]["heartbeat"], hb.id.to_string(), "{opened}");

    let given_up = scheduler.wait_for("notification given up").await;
    assert_eq!(given_up["level"], "WARN", "{given_up}");
    let fields = &given_up["fields"];
    assert_eq!(fields["error"], "target refused: not a public address");
    let detail = fields["detail"].as_str().unwrap();
    assert!(detail.contains("127.0.0.1"), "{given_up}");
    assert!(
        detail.contains("LIFELINE_ALLOW_PRIVATE_WEBHOOKS=1"),
        "{given_up}"
    );
    assert!(hook.requests().is_empty());
    let failed = "SELECT count(*) AS n FROM notifications \
                  WHERE status = 'failed' AND last_error = 'target refused: not a public address'";
    assert_eq!(app.wait_count(failed, 1, PATIENCE).await, 1);
    scheduler.stop().await;
    app.stop().await;
}
