use std::process::Output;

use lifeline_testkit::{Role, TestApp, TestDb, WebClient};
use serde_json::Value;

use crate::{create_heartbeat, create_team, lifeline, on_heartbeat};

pub(crate) async fn run(db: &TestDb, args: &[&str]) -> Output {
    lifeline(db).run(args).await
}

/// Runs a command that must succeed.
pub(crate) async fn run_ok(db: &TestDb, args: &[&str]) -> Output {
    let out = run(db, args).await;
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub(crate) async fn json(db: &TestDb, args: &[&str]) -> Value {
    let out = run_ok(db, args).await;
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_can_manage_teams_and_heartbeats() {
    let db = TestDb::new().await;
    let team = json(&db, &create_team("Ops", "premium")).await;
    assert_eq!(team["plan"], "premium");
    let team_id = team["id"].as_str().unwrap();

    let options = ["--interval", "86400", "--grace", "1800", "--json"];
    let hb = json(&db, &create_heartbeat(team_id, "nightly backup", &options)).await;
    let id = hb["id"].as_str().unwrap().to_owned();
    let token = hb["token"].as_str().unwrap().to_owned();
    assert_eq!(
        hb["ping_url"],
        format!("https://hb.example.com/api/v1/hb/{token}")
    );
    assert_eq!(hb["status"], "new");
    assert_eq!(hb["interval_secs"], 86400);
    assert_eq!(hb["grace_secs"], 1800);

    let rotated = json(&db, &on_heartbeat("rotate", &id)).await;
    assert_ne!(rotated["token"].as_str().unwrap(), token);
    assert_eq!(rotated["id"], id.as_str());

    let paused = json(&db, &on_heartbeat("pause", &id)).await;
    assert_eq!(paused["status"], "paused");
    let resumed = json(&db, &on_heartbeat("resume", &id)).await;
    assert_eq!(resumed["status"], "new", "never pinged, so new again");

    let stats = json(&db, &on_heartbeat("stats", &id)).await;
    assert_eq!(stats["status"], "new");
    assert_eq!(stats["pings_stored"], 0);
    assert_eq!(stats["last_ping_at"], Value::Null);
    assert_eq!(stats["retention_days"], 90);

    // The operator changes the plan; the heartbeat's history follows it.
    let changed = json(
        &db,
        &[
            "admin", "team", "plan", "--team", team_id, "--plan", "standard", "--json",
        ],
    )
    .await;
    assert_eq!(changed["plan"], "standard");
    assert_eq!(changed["previous_plan"], "premium");
    let stats = json(&db, &on_heartbeat("stats", &id)).await;
    assert_eq!(stats["retention_days"], 30);

    // `set-plan` is the spelling, and the only way to Enterprise; `show` reads it back.
    let set = [
        "admin",
        "team",
        "set-plan",
        team_id,
        "--plan",
        "enterprise",
        "--json",
    ];
    let changed = json(&db, &set).await;
    assert_eq!(changed["plan"], "enterprise");
    assert_eq!(changed["previous_plan"], "standard");
    let shown = json(&db, &["admin", "team", "show", team_id, "--json"]).await;
    assert_eq!(shown["id"], team_id);
    assert_eq!(shown["plan"], "enterprise");
    assert_eq!(shown["plan_ends_at"], Value::Null);
    assert_eq!(shown["stripe_customer"], Value::Null);
    assert_eq!(shown["heartbeats"], 1);
    assert_eq!(shown["members"], 0);
    assert!(shown["name"].is_string());
    let plans: i64 = db
        .count(&format!(
            "SELECT count(*) AS n FROM audit_log WHERE team_id = '{team_id}' \
             AND action = 'team.plan' AND actor = 'operator'"
        ))
        .await;
    assert_eq!(plans, 2, "each change audited once, as the operator's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_the_pings_stored() {
    let app = TestApp::start().await;
    let (_, hb) = app.hourly().await;
    for _ in 0..3 {
        app.http.post(app.url(&hb)).send().await.unwrap();
    }
    let stats = json(&app.db, &on_heartbeat("stats", &hb.id.to_string())).await;
    assert_eq!(stats["pings_stored"], 3);
    assert_eq!(stats["status"], "up");
    assert!(stats["last_ping_at"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_a_clear_message() {
    let db = TestDb::new().await;
    let unknown = "01a20950-0912-71d0-b8d6-4183bfa374ad";
    let cases = [
        (create_team("X", "gold"), "unknown plan"),
        (create_heartbeat("nope", "x", &["--json"]), "--team"),
        (create_heartbeat(unknown, "x", &["--json"]), "not found"),
        (on_heartbeat("stats", unknown), "not found"),
        (create_team("   ", "free"), "team name"),
    ];
    for (args, message) in cases {
        let out = run(&db, &args).await;
        assert!(!out.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "{args:?} printed to stdout on failure"
        );
    }
    let team = json(&db, &create_team("T", "free")).await;
    let team_id = team["id"].as_str().unwrap();
    let out = run(&db, &create_heartbeat(team_id, "x", &["--interval", "0"])).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("interval must be between"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_setting_stops_start_up_naming_it() {
    let db = TestDb::new().await;
    for (name, value) in [
        ("DATABASE_URL", "mysql://x"),
        ("REDIS_URL", "http://nope"),
        ("LIFELINE_INGEST_ADDR", "localhost"),
        ("LIFELINE_PING_RATE_LIMIT", "lots"),
        ("LIFELINE_TRUSTED_PROXY_HEADER", "bad header"),
        ("LIFELINE_PUBLIC_URL", "hb.example.com"),
        ("LIFELINE_PING_URL", "ftp://hb.example.com"),
        ("LIFELINE_WEB_ADDR", "localhost"),
        ("LIFELINE_SESSION_SECRET", "too short"),
        ("LIFELINE_INGEST_WRITERS", "0"),
        ("LIFELINE_BLIND_AFTER_MS", "100"),
        ("LIFELINE_DELIVERY_CONCURRENCY", "0"),
        ("LIFELINE_ALLOW_PRIVATE_WEBHOOKS", "yes"),
        ("LIFELINE_NOTIFY_TIMEOUT_MS", "ten"),
        ("LIFELINE_NOTIFY_TIMEOUT_MS", "0"),
        ("LIFELINE_SMTP_URL", "http://mail.example.com"),
        ("LIFELINE_SMTP_URL", "smtp://mail.example.com?tls=maybe"),
        ("LIFELINE_SMTP_FROM", "not an address"),
    ] {
        let out = lifeline(&db).env(name, value).run(&["ingest"]).await;
        assert_eq!(out.status.code(), Some(2), "{name}={value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(name), "{name}={value}: {stderr}");
    }
    // Unreachable Postgres is named too.
    let out = lifeline(&db)
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
        .run(&["migrate"])
        .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_is_idempotent_and_prints_a_ping_url_and_a_working_login() {
    let db = TestDb::new().await;
    let mut first = json(&db, &["demo", "--json"]).await;
    let mut second = json(&db, &["demo", "--json"]).await;
    let password = second["password"].as_str().unwrap().to_owned();
    assert_ne!(
        first["password"], second["password"],
        "a fresh password per run"
    );
    first["password"] = serde_json::Value::Null;
    second["password"] = serde_json::Value::Null;
    assert_eq!(first, second);
    assert!(
        first["ping_url"]
            .as_str()
            .unwrap()
            .starts_with("https://hb.example.com/api/v1/hb/")
    );
    assert_eq!(first["user"], "demo@lifeline.local");
    let human = run(&db, &["demo"]).await;
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains(first["ping_url"].as_str().unwrap()));
    // The heartbeat's id beside its ping URL: what `admin heartbeat show|edit|stats` take.
    let id = first["heartbeat_id"].as_str().unwrap();
    assert!(
        text.contains(&format!("id:        {id}\n  ping URL:")),
        "{text}"
    );
    assert!(text.contains("curl -fsS -X POST"));
    assert!(text.contains("log in as  demo@lifeline.local"), "{text}");
    let password_line = text.lines().find(|l| l.contains("password")).unwrap();
    let printed = password_line.split_whitespace().nth(1).unwrap().to_owned();

    // The printed login opens the dashboard; the previous run's password no longer does.
    let web = lifeline(&db).start(Role::Web).await;
    let mut browser = WebClient::new(&web.web_base());
    let page = browser.log_in("demo@lifeline.local", &password).await;
    assert_eq!(page.status, reqwest::StatusCode::UNAUTHORIZED);
    let page = browser.log_in("demo@lifeline.local", &printed).await;
    assert_eq!(page.status, reqwest::StatusCode::SEE_OTHER, "{}", page.body);
    let list = browser.follow(&page).await;
    assert!(list.contains("demo-job"), "{}", list.body);
    assert!(list.contains("Demo team"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_reversible() {
    let db = TestDb::new().await;
    run_ok(&db, &["migrate", "--revert-all"]).await;
    let tables = count_tables(&db).await;
    assert_eq!(tables, 1, "only diesel's bookkeeping table remains");
    run_ok(&db, &["migrate"]).await;
    assert!(count_tables(&db).await >= 15);
    json(&db, &create_team("after re-migration", "free")).await;
}

async fn count_tables(db: &TestDb) -> i64 {
    use diesel::sql_types::BigInt;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let rows: Vec<N> =
        diesel::sql_query("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'")
            .load(&mut db.conn().await)
            .await
            .unwrap();
    rows.iter().map(|r| r.n).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_migrating_at_once_take_turns() {
    let db = TestDb::new().await;
    run_ok(&db, &["migrate", "--revert-all"]).await;
    tokio::join!(
        run_ok(&db, &["migrate"]),
        run_ok(&db, &["migrate"]),
        run_ok(&db, &["migrate"])
    );
    assert!(count_tables(&db).await >= 15);
}
