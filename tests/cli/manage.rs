//! Managing what the admin commands created: `list`, `show`, `edit`, `delete` (only with
//! `--yes`) and `detach` for teams, heartbeats and channels; `--team` by id or exact name;
//! durations in human units; the text form of `heartbeat stats`.

use diesel_async::SimpleAsyncConnection;
use lifeline_testkit::{TestApp, TestDb};
use serde_json::Value;

use crate::admin::{json, run, run_ok};
use crate::{create_channel, create_heartbeat, create_team, gone_silent, on_heartbeat};

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

/// Runs a command that must fail with `code`, say `needle` on stderr and print nothing on
/// stdout; returns stderr.
async fn fails(db: &TestDb, args: &[&str], code: i32, needle: &str) -> String {
    let out = run(db, args).await;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(stderr.contains(needle), "{args:?}: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "{args:?} printed to stdout on failure"
    );
    stderr
}

/// The text form of a command that must succeed.
async fn text(db: &TestDb, args: &[&str]) -> String {
    String::from_utf8_lossy(&run_ok(db, args).await.stdout).into_owned()
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    db.count(sql).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_is_named_by_its_id_or_its_exact_name() {
    let db = TestDb::new().await;
    let team = id(&json(&db, &create_team("Newcomer team", "standard")).await);
    json(&db, &create_team("Other", "free")).await;

    // The example: a name where an id was the only thing accepted.
    let hb = json(
        &db,
        &create_heartbeat("Newcomer team", "nightly", &["--json"]),
    )
    .await;
    assert_eq!(hb["team_id"], team.as_str());
    let channel = create_channel(
        "Newcomer team",
        "webhook",
        "https://hooks.example.com/x",
        &[],
    );
    run_ok(&db, &channel).await;
    let key = [
        "admin",
        "api-key",
        "create",
        "--team",
        "Newcomer team",
        "--json",
    ];
    assert_eq!(json(&db, &key).await["team_id"], team.as_str());
    let shown = json(&db, &["admin", "team", "show", "Newcomer team", "--json"]).await;
    assert_eq!(shown["id"], team.as_str());
    assert_eq!(shown["heartbeats"], 1);
    assert_eq!(shown["time_zone"], "UTC");

    // Every team, in JSON and for people.
    let listed = json(&db, &["admin", "team", "list", "--json"]).await;
    let teams = listed["teams"].as_array().unwrap();
    let names: Vec<&str> = teams.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Newcomer team", "Other"], "oldest first");
    assert_eq!(teams[0]["id"], team.as_str());
    assert_eq!(teams[0]["plan"], "standard");
    assert_eq!(teams[0]["heartbeats"], 1);
    assert_eq!(teams[1]["heartbeats"], 0);
    let listed = text(&db, &["admin", "team", "list"]).await;
    assert!(
        listed.contains(&format!(
            "{team}  Newcomer team  (standard plan, 1 heartbeat(s)"
        )),
        "{listed}"
    );

    // Exact: another case or stray spaces name no team, and the message says what to give.
    for wrong in ["newcomer team", "Newcomer team ", "Nobody"] {
        let args = ["admin", "heartbeat", "list", "--team", wrong];
        let err = fails(&db, &args, 1, "no team is named").await;
        assert!(
            err.contains("the team's id (a UUID) or its exact name"),
            "{err}"
        );
    }
    // Names are not unique: an ambiguous one is refused, listing the ids to choose from.
    let first = id(&json(&db, &create_team("Twin", "free")).await);
    let second = id(&json(&db, &create_team("Twin", "free")).await);
    let args = create_heartbeat("Twin", "x", &["--json"]);
    let err = fails(&db, &args, 1, "2 teams are named \"Twin\"").await;
    assert!(err.contains(&first) && err.contains(&second), "{err}");
    assert_eq!(count(&db, "SELECT count(*) AS n FROM heartbeats").await, 1);
    // An empty value is a usage error, as a malformed id is.
    fails(
        &db,
        &create_heartbeat("", "x", &[]),
        2,
        "id (a UUID) or its exact name",
    )
    .await;
    // An id still works, and an unknown one is not found.
    let unknown = "01a20950-0912-71d0-b8d6-4183bfa374ad";
    let shown = json(&db, &["admin", "team", "show", &first, "--json"]).await;
    assert_eq!(shown["name"], "Twin");
    fails(&db, &["admin", "team", "show", unknown], 1, "not found").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_is_edited_and_deleted_only_when_confirmed() {
    let db = TestDb::new().await;
    let team = id(&json(&db, &create_team("Ops", "premium")).await);
    let hb = json(&db, &create_heartbeat(&team, "job", &["--json"])).await;
    let other = id(&json(&db, &create_team("Bystanders", "free")).await);
    json(&db, &create_heartbeat(&other, "theirs", &["--json"])).await;

    let edit = [
        "admin",
        "team",
        "edit",
        "Ops",
        "--name",
        "Platform",
        "--time-zone",
        "Europe/Paris",
        "--json",
    ];
    let edited = json(&db, &edit).await;
    assert_eq!(edited["id"], team.as_str());
    assert_eq!(edited["name"], "Platform");
    assert_eq!(edited["time_zone"], "Europe/Paris");
    let audited = format!(
        "SELECT count(*) AS n FROM audit_log WHERE team_id = '{team}' AND actor = 'operator' \
         AND action IN ('team.rename', 'team.time_zone')"
    );
    assert_eq!(count(&db, &audited).await, 2);
    let shown = text(&db, &["admin", "team", "show", "Platform"]).await;
    assert!(shown.contains("time zone: Europe/Paris"), "{shown}");
    // Nothing to change, or a bad value, is refused before anything is done.
    fails(&db, &["admin", "team", "edit", "Platform"], 2, "--name").await;
    fails(
        &db,
        &[
            "admin",
            "team",
            "edit",
            "Platform",
            "--time-zone",
            "Mars/Base",
        ],
        2,
        "IANA",
    )
    .await;
    fails(
        &db,
        &["admin", "team", "edit", "Platform", "--name", "  "],
        1,
        "--name",
    )
    .await;

    // Without --yes nothing is deleted, and the message says how to confirm.
    let teams = "SELECT count(*) AS n FROM teams";
    let err = fails(&db, &["admin", "team", "delete", "Platform"], 2, "--yes").await;
    assert!(err.contains("nothing was deleted"), "{err}");
    assert!(err.contains("1 heartbeat(s)"), "{err}");
    assert_eq!(count(&db, teams).await, 2);

    let deleted = json(
        &db,
        &["admin", "team", "delete", "Platform", "--yes", "--json"],
    )
    .await;
    assert_eq!(deleted["id"], team.as_str());
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted["heartbeats"], 1);
    assert_eq!(count(&db, teams).await, 1, "only the other team is left");
    let heartbeats = "SELECT count(*) AS n FROM heartbeats";
    assert_eq!(count(&db, heartbeats).await, 1);
    // Its heartbeat's token is recorded as revoked, so every ingest process drops it.
    let token = hb["token"].as_str().unwrap();
    let revoked = "SELECT count(*) AS n FROM token_revocations";
    assert_eq!(count(&db, revoked).await, 1, "{token}'s revocation");
    fails(
        &db,
        &["admin", "team", "show", "Platform"],
        1,
        "no team is named",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durations_are_written_in_human_units_or_seconds() {
    let db = TestDb::new().await;
    let team = id(&json(&db, &create_team("Ops", "premium")).await);
    let options = [
        "--interval",
        "5m",
        "--grace",
        "1h30m",
        "--max-runtime",
        "2h",
        "--progress-timeout",
        "10 min",
        "--json",
    ];
    let hb = json(&db, &create_heartbeat(&team, "human", &options)).await;
    let secs = |hb: &Value, field: &str| hb[field].as_i64();
    assert_eq!(secs(&hb, "interval_secs"), Some(300));
    assert_eq!(secs(&hb, "grace_secs"), Some(5_400));
    assert_eq!(secs(&hb, "max_runtime_secs"), Some(7_200));
    assert_eq!(secs(&hb, "progress_timeout_secs"), Some(600));
    // Scripts pass plain seconds; without the options, a day and an hour.
    let options = ["--interval", "300", "--grace", "60", "--json"];
    let plain = json(&db, &create_heartbeat(&team, "seconds", &options)).await;
    assert_eq!(secs(&plain, "interval_secs"), Some(300));
    assert_eq!(secs(&plain, "grace_secs"), Some(60));
    let default = json(&db, &create_heartbeat(&team, "default", &["--json"])).await;
    assert_eq!(secs(&default, "interval_secs"), Some(86_400));
    assert_eq!(secs(&default, "grace_secs"), Some(3_600));
    assert!(default["max_runtime_secs"].is_null());

    // A negative or unreadable duration is a usage error that says what to type.
    for (option, value, expected) in [
        ("--interval", "-5", "is negative"),
        ("--interval", "-5m", "is negative"),
        ("--grace", "-1", "is negative"),
        (
            "--interval",
            "5x",
            "is not a duration: use units like 90s, 5m, 1h 30m, 2d",
        ),
        ("--max-runtime", "1.5h", "is not a duration"),
        ("--progress-timeout", "", "enter a duration"),
    ] {
        let args = create_heartbeat(&team, "bad", &[option, value]);
        let err = fails(&db, &args, 2, expected).await;
        assert!(err.contains(option), "{option} {value}: {err}");
        assert!(!err.contains("unexpected argument"), "{err}");
    }
    // A readable duration outside a schedule's bounds is refused by the schedule's rule.
    let args = create_heartbeat(&team, "zero", &["--interval", "0s"]);
    fails(
        &db,
        &args,
        1,
        "interval must be between 1 second and 400 days",
    )
    .await;
    let heartbeats = "SELECT count(*) AS n FROM heartbeats";
    assert_eq!(
        count(&db, heartbeats).await,
        3,
        "no refused heartbeat was made"
    );

    // `edit` reads the same units.
    let hb_id = id(&hb);
    let edit = [
        "admin",
        "heartbeat",
        "edit",
        &hb_id,
        "--interval",
        "1d",
        "--grace",
        "2h",
        "--json",
    ];
    let edited = json(&db, &edit).await;
    assert_eq!(secs(&edited, "interval_secs"), Some(86_400));
    assert_eq!(secs(&edited, "grace_secs"), Some(7_200));
    assert_eq!(secs(&edited, "max_runtime_secs"), Some(7_200), "kept");
    let args = ["admin", "heartbeat", "edit", &hb_id, "--grace", "-30m"];
    fails(&db, &args, 2, "is negative").await;
    // The replay reads them too.
    let args = [
        "analyzer",
        "replay",
        "--train",
        "/nonexistent.csv",
        "--test",
        "/nonexistent.csv",
        "--tz",
        "UTC",
        "--fallback-interval",
        "-1h",
        "--fallback-grace",
        "10m",
    ];
    fails(&db, &args, 2, "is negative").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_listed_shown_and_edited() {
    let db = TestDb::new().await;
    let team = id(&json(&db, &create_team("Ops", "premium")).await);
    let other = id(&json(&db, &create_team("Others", "free")).await);
    json(&db, &create_heartbeat(&other, "not ours", &["--json"])).await;
    let hook = id(&json(
        &db,
        &create_channel(&team, "webhook", "https://hooks.example.com/a", &["--json"]),
    )
    .await);
    let options = ["--interval", "1h", "--channel", &hook, "--json"];
    let backup = json(&db, &create_heartbeat(&team, "backup", &options)).await;
    let export = json(&db, &create_heartbeat(&team, "export", &["--json"])).await;
    let backup_id = id(&backup);

    let listed = json(
        &db,
        &["admin", "heartbeat", "list", "--team", "Ops", "--json"],
    )
    .await;
    assert_eq!(listed["team_id"], team.as_str());
    let all = listed["heartbeats"].as_array().unwrap();
    let names: Vec<&str> = all.iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["backup", "export"], "by name, the team's only");
    assert_eq!(all[0]["channels"], serde_json::json!([hook]));
    assert_eq!(all[0]["ping_url"], backup["ping_url"]);
    assert_eq!(all[1]["channels"], serde_json::json!([]));
    let listed = text(&db, &["admin", "heartbeat", "list", "--team", "Ops"]).await;
    let line = listed.lines().find(|l| l.starts_with(&backup_id)).unwrap();
    assert!(line.contains("new"), "{line}");
    assert!(line.contains("every 1 h, grace 1 h"), "{line}");
    assert!(line.contains("last ping never"), "{line}");
    assert_eq!(listed.lines().count(), 2, "{listed}");
    let empty = text(&db, &["admin", "heartbeat", "list", "--team", "Others"]).await;
    assert!(!empty.contains("backup"));

    let shown = json(&db, &on_heartbeat("show", &backup_id)).await;
    assert_eq!(shown["name"], "backup");
    assert_eq!(shown["token"], backup["token"]);
    assert_eq!(shown["channels"], serde_json::json!([hook]));
    let shown = text(&db, &["admin", "heartbeat", "show", &backup_id]).await;
    for part in [
        "schedule: every 1 h, grace 1 h",
        "time zone: the team's",
        backup["ping_url"].as_str().unwrap(),
        &format!("channels: {hook}"),
    ] {
        assert!(shown.contains(part), "{part}: {shown}");
    }

    let edit = [
        "admin",
        "heartbeat",
        "edit",
        &backup_id,
        "--name",
        "nightly backup",
        "--description",
        "pg_dump to S3",
        "--max-runtime",
        "45m",
        "--time-zone",
        "Europe/Paris",
        "--json",
    ];
    let edited = json(&db, &edit).await;
    assert_eq!(edited["id"], backup_id.as_str());
    assert_eq!(edited["name"], "nightly backup");
    assert_eq!(edited["description"], "pg_dump to S3");
    assert_eq!(edited["max_runtime_secs"], 2_700);
    assert_eq!(edited["interval_secs"], 3_600, "kept");
    assert_eq!(edited["time_zone"], "Europe/Paris");
    assert_eq!(edited["token"], backup["token"], "the ping URL is kept");
    assert_eq!(edited["channels"], serde_json::json!([hook]));
    let long = "d".repeat(2_001);
    let args = [
        "admin",
        "heartbeat",
        "edit",
        &backup_id,
        "--description",
        &long,
    ];
    fails(&db, &args, 1, "--description: at most 2000 characters").await;
    let edit = [
        "admin",
        "heartbeat",
        "edit",
        &backup_id,
        "--no-max-runtime",
        "--team-time-zone",
    ];
    let said = text(&db, &edit).await;
    assert!(said.contains("time zone: the team's"), "{said}");
    let stored = format!(
        "SELECT count(*) AS n FROM heartbeats WHERE id = '{backup_id}' \
         AND max_runtime_secs IS NULL AND time_zone IS NULL AND name = 'nightly backup'"
    );
    assert_eq!(count(&db, &stored).await, 1);
    let audited = format!(
        "SELECT count(*) AS n FROM audit_log WHERE target = '{backup_id}' \
         AND action = 'heartbeat.edit' AND actor = 'operator'"
    );
    assert_eq!(count(&db, &audited).await, 2);

    // Nothing to change, contradicting options, a bad value: refused, nothing changed.
    let export_id = id(&export);
    let bad: [(&[&str], i32, &str); 4] = [
        (&[], 2, "--name"),
        (
            &["--max-runtime", "1h", "--no-max-runtime"],
            2,
            "cannot be used with",
        ),
        (&["--time-zone", "Nowhere/City"], 2, "IANA"),
        (&["--name", " "], 1, "--name"),
    ];
    for (options, code, needle) in bad {
        let args = [&["admin", "heartbeat", "edit", export_id.as_str()], options].concat();
        fails(&db, &args, code, needle).await;
    }
    let unchanged = json(&db, &on_heartbeat("show", &export_id)).await;
    assert_eq!(unchanged["name"], "export");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_heartbeat_stops_answering_its_ping_url() {
    let app = TestApp::start().await;
    let db = &app.db;
    let team = id(&json(db, &create_team("Ops", "free")).await);
    let hb = json(db, &create_heartbeat(&team, "job", &["--json"])).await;
    let hb_id = id(&hb);
    let url = format!("{}/api/v1/hb/{}", app.base, hb["token"].as_str().unwrap());
    assert_eq!(app.get_status(&url).await, reqwest::StatusCode::OK);

    let delete = ["admin", "heartbeat", "delete", hb_id.as_str()];
    let err = fails(
        db,
        &delete,
        2,
        "nothing was deleted: add --yes to delete heartbeat",
    )
    .await;
    assert!(err.contains("\"job\""), "{err}");
    assert_eq!(app.get_status(&url).await, reqwest::StatusCode::OK, "kept");

    let deleted = json(db, &[&delete[..], &["--yes", "--json"]].concat()).await;
    assert_eq!(deleted["id"], hb_id.as_str());
    assert_eq!(deleted["deleted"], true);
    let gone = async || app.get_status(&url).await == reqwest::StatusCode::NOT_FOUND;
    assert!(
        lifeline_testkit::wait_until(std::time::Duration::from_secs(2), gone).await,
        "the ping URL still works after the deletion"
    );
    let rows = format!("SELECT count(*) AS n FROM heartbeats WHERE id = '{hb_id}'");
    assert_eq!(app.count(&rows).await, 0);
    let audited = format!(
        "SELECT count(*) AS n FROM audit_log WHERE target = '{hb_id}' \
         AND action = 'heartbeat.delete' AND actor = 'operator'"
    );
    assert_eq!(app.count(&audited).await, 1);
    fails(db, &on_heartbeat("show", &hb_id), 1, "not found").await;
    fails(db, &[&delete[..], &["--yes"]].concat(), 1, "not found").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_are_listed_shown_edited_detached_and_deleted() {
    let db = TestDb::new().await;
    let team = id(&json(&db, &create_team("Ops", "standard")).await);
    let other = id(&json(&db, &create_team("Others", "free")).await);
    let theirs = id(&json(
        &db,
        &create_channel(&other, "email", "them@example.com", &["--json"]),
    )
    .await);
    let hook = id(&json(
        &db,
        &create_channel(&team, "webhook", "https://hooks.example.com/a", &["--json"]),
    )
    .await);
    let mail = id(&json(
        &db,
        &create_channel(
            &team,
            "email",
            "ops@example.com",
            &["--name", "On call", "--json"],
        ),
    )
    .await);
    let options = ["--channel", &hook, "--channel", &mail, "--json"];
    let hb_id = id(&json(&db, &create_heartbeat(&team, "job", &options)).await);

    let listed = json(
        &db,
        &["admin", "channel", "list", "--team", "Ops", "--json"],
    )
    .await;
    assert_eq!(listed["team_id"], team.as_str());
    let all = listed["channels"].as_array().unwrap();
    let ids: Vec<&str> = all.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [hook.as_str(), mail.as_str()],
        "the team's, oldest first"
    );
    assert_eq!(all[1]["name"], "On call");
    assert_eq!(all[1]["heartbeats"], 1);
    assert!(all[0].get("secret").is_none(), "the secret is shown once");
    let listed = text(&db, &["admin", "channel", "list", "--team", &team]).await;
    let line = listed.lines().find(|l| l.starts_with(&mail)).unwrap();
    assert!(
        line.contains("On call (ops@example.com), 1 heartbeat(s)"),
        "{line}"
    );

    let shown = json(&db, &["admin", "channel", "show", &mail, "--json"]).await;
    assert_eq!(shown["kind"], "email");
    assert_eq!(shown["team_id"], team.as_str());
    assert_eq!(shown["heartbeat_ids"], serde_json::json!([hb_id]));
    assert!(shown["last_delivery"].is_null());
    let shown = text(&db, &["admin", "channel", "show", &mail]).await;
    assert!(shown.contains("target: ops@example.com"), "{shown}");
    assert!(shown.contains(&format!("heartbeats: {hb_id}")), "{shown}");

    // The operator vouches for a new address, as for a new channel: confirmed at once.
    let edit = [
        "admin",
        "channel",
        "edit",
        &mail,
        "--target",
        "oncall@example.com",
        "--name",
        "Pager",
        "--json",
    ];
    let edited = json(&db, &edit).await;
    assert_eq!(edited["target"], "oncall@example.com");
    assert_eq!(edited["name"], "Pager");
    assert!(edited["confirmed_at"].is_string(), "{edited}");
    let args = ["admin", "channel", "edit", &hook, "--target", "not a url"];
    fails(&db, &args, 1, "--target").await;
    fails(&db, &["admin", "channel", "edit", &hook], 2, "--name").await;
    // The dashboard's rules for a name, in the dashboard's words.
    let long_name = "n".repeat(101);
    let args = ["admin", "channel", "edit", &hook, "--name", &long_name];
    fails(
        &db,
        &args,
        1,
        "--name: the name must be at most 100 characters",
    )
    .await;

    // Detach: the inverse of attach, harmless twice, refused for another team's channel.
    let detach = |channel: &str| {
        vec![
            "admin".to_owned(),
            "heartbeat".to_owned(),
            "detach".to_owned(),
            hb_id.clone(),
            "--channel".to_owned(),
            channel.to_owned(),
            "--json".to_owned(),
        ]
    };
    let args = detach(&hook);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let detached = json(&db, &args).await;
    assert_eq!(detached["detached"], true);
    assert_eq!(detached["channels"], serde_json::json!([mail]));
    let again = json(&db, &args).await;
    assert_eq!(again["detached"], false);
    let said = text(&db, &args[..args.len() - 1]).await;
    assert!(said.contains("was not attached"), "{said}");
    let args = detach(&theirs);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    fails(&db, &args, 1, "no such channel").await;
    let stats = json(&db, &on_heartbeat("stats", &hb_id)).await;
    assert_eq!(stats["channels"], serde_json::json!([mail]));

    // Delete: only with --yes; the heartbeat stops alerting it.
    let delete = ["admin", "channel", "delete", mail.as_str()];
    let err = fails(&db, &delete, 2, "--yes").await;
    assert!(err.contains("1 heartbeat(s) stop alerting it"), "{err}");
    let deleted = json(&db, &[&delete[..], &["--yes", "--json"]].concat()).await;
    assert_eq!(deleted["deleted"], true);
    let stats = json(&db, &on_heartbeat("stats", &hb_id)).await;
    assert_eq!(stats["channels"], serde_json::json!([]));
    let rows = format!("SELECT count(*) AS n FROM channels WHERE id = '{mail}'");
    assert_eq!(count(&db, &rows).await, 0);
    fails(&db, &["admin", "channel", "show", &mail], 1, "not found").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_for_people_show_the_open_incident_and_the_last_alert_with_its_error() {
    let db = TestDb::new().await;
    let team = id(&json(&db, &create_team("Ops", "standard")).await);
    let hook = id(&json(
        &db,
        &create_channel(&team, "webhook", "https://hooks.example.com/a", &["--json"]),
    )
    .await);
    let options = [
        "--interval",
        "1m",
        "--grace",
        "0",
        "--channel",
        &hook,
        "--json",
    ];
    let hb_id = id(&json(&db, &create_heartbeat(&team, "export", &options)).await);
    let quiet = text(&db, &["admin", "heartbeat", "stats", &hb_id]).await;
    assert!(quiet.contains("open incident: none"), "{quiet}");
    assert!(quiet.contains("last alert: none"), "{quiet}");

    // It goes down; the alert's delivery fails for good.
    let pass = gone_silent(&db, &hb_id).await;
    assert_eq!((pass.down, pass.notifications), (1, 1));
    db.conn()
        .await
        .batch_execute(
            "UPDATE notifications SET status = 'failed', attempts = 5, \
         last_error = 'webhook: the receiver answered 503'",
        )
        .await
        .unwrap();

    let stats = text(&db, &["admin", "heartbeat", "stats", &hb_id]).await;
    let lines: Vec<&str> = stats.lines().collect();
    assert!(
        lines[0].starts_with(&format!("export ({hb_id}): down")),
        "{stats}"
    );
    let incident = lines
        .iter()
        .find(|l| l.starts_with("open incident: down since"));
    assert!(
        incident.is_some_and(|l| l.contains("no ping since")),
        "{stats}"
    );
    let alert = lines.iter().find(|l| l.starts_with("last alert: alert"));
    let alert = alert.unwrap_or_else(|| panic!("{stats}"));
    assert!(alert.contains(&format!("to channel {hook}")), "{alert}");
    assert!(alert.contains("failed after 5 attempt(s)"), "{alert}");
    assert!(
        lines.contains(&"last error: webhook: the receiver answered 503"),
        "{stats}"
    );
    // The JSON form had them all along, and keeps them.
    let stats = json(&db, &on_heartbeat("stats", &hb_id)).await;
    assert_eq!(stats["open_incident"]["kind"], "down");
    assert_eq!(
        stats["last_alert"]["last_error"],
        "webhook: the receiver answered 503"
    );
}
