//! `lifeline admin channel …` and the channel options of `heartbeat create|attach|stats`.

use lifeline_testkit::TestDb;
use serde_json::Value;

use crate::admin::{json, run};
use crate::{create_channel, create_heartbeat, create_team, gone_silent, lifeline, on_heartbeat};

async fn team(db: &TestDb, plan: &str) -> String {
    json(db, &create_team("Ops", plan)).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `admin channel create … --json`, which must succeed.
async fn channel(db: &TestDb, team: &str, kind: &str, target: &str) -> Value {
    json(db, &create_channel(team, kind, target, &["--json"])).await
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_create_channels_and_attach_them() {
    let db = TestDb::new().await;
    let team = team(&db, "standard").await;
    let hook = channel(&db, &team, "webhook", "https://hooks.example.com/lifeline").await;
    assert_eq!(hook["kind"], "webhook");
    assert!(
        hook["secret"].as_str().unwrap().starts_with("whsec_"),
        "{hook}"
    );
    let mail = channel(&db, &team, "email", "ops@example.com").await;
    assert!(mail.get("secret").is_none_or(|s| s.is_null()), "{mail}");

    let (hook_id, mail_id) = (id(&hook), id(&mail));
    let options = [
        "--interval",
        "60",
        "--grace",
        "0",
        "--max-runtime",
        "600",
        "--progress-timeout",
        "60",
        "--channel",
        &hook_id,
        "--json",
    ];
    let hb = json(&db, &create_heartbeat(&team, "export", &options)).await;
    let hb_id = id(&hb);
    assert_eq!(
        (
            hb["max_runtime_secs"].as_i64(),
            hb["progress_timeout_secs"].as_i64()
        ),
        (Some(600), Some(60))
    );
    let attach = [
        "admin",
        "heartbeat",
        "attach",
        &hb_id,
        "--channel",
        &mail_id,
        "--json",
    ];
    let attached = json(&db, &attach).await;
    assert_eq!(attached["channels"].as_array().unwrap().len(), 2);

    let stats = json(&db, &on_heartbeat("stats", &hb_id)).await;
    assert!(stats["open_incident"].is_null());
    assert!(stats["last_alert"].is_null());
    assert_eq!(stats["channels"].as_array().unwrap().len(), 2);

    // It goes down: stats show the open incident and the alert queued for it.
    let pass = gone_silent(&db, &hb_id).await;
    assert_eq!((pass.down, pass.notifications), (1, 2));
    let stats = json(&db, &on_heartbeat("stats", &hb_id)).await;
    assert_eq!(stats["status"], "down");
    let reason = stats["open_incident"]["reason"].as_str().unwrap();
    assert!(reason.contains("no ping since"), "{stats}");
    assert_eq!(stats["last_alert"]["status"], "pending");
    assert_eq!(stats["last_alert"]["kind"], "alert");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_mistakes_are_refused_with_a_clear_message() {
    let db = TestDb::new().await;
    let another = team(&db, "free").await;
    let team = team(&db, "free").await;
    let private = "http://127.0.0.1:9000/internal";
    let cases: [(&str, &str, &str); 4] = [
        ("pager", "x", "--kind"),
        ("email", "not an address", "--target"),
        ("webhook", "ftp://example.com/x", "--target"),
        ("webhook", private, "private"),
    ];
    for (kind, target, expected) in cases {
        let out = run(&db, &create_channel(&team, kind, target, &[])).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{kind} {target} was accepted");
        assert!(err.contains(expected), "{kind} {target}: {err}");
    }
    // The operator may allow private targets (the tests' receivers live on 127.0.0.1).
    for (allow, accepted) in [("1", true), ("TRUE", true), ("false", false), ("0", false)] {
        let args = create_channel(&team, "webhook", private, &[]);
        let out = lifeline(&db)
            .env("LIFELINE_ALLOW_PRIVATE_WEBHOOKS", allow)
            .run(&args)
            .await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.success(),
            accepted,
            "LIFELINE_ALLOW_PRIVATE_WEBHOOKS={allow}: {err}"
        );
    }

    // Another team's channel can be neither attached nor given at creation.
    let others = id(&channel(&db, &another, "email", "them@example.com").await);
    let hb_id = id(&json(&db, &create_heartbeat(&team, "job", &["--json"])).await);
    let attach = vec!["admin", "heartbeat", "attach", &hb_id, "--channel", &others];
    let with = create_heartbeat(&team, "x", &["--channel", &others]);
    for args in [attach, with] {
        let out = run(&db, &args).await;
        assert!(!out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no such channel"),
            "{args:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_channel_made_without_smtp_is_created_with_a_warning() {
    let db = TestDb::new().await;
    let team = team(&db, "free").await;
    let out = run(
        &db,
        &create_channel(&team, "email", "ops@example.com", &["--json"]),
    )
    .await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    for part in ["warning", "LIFELINE_SMTP_URL is not set", "ops@example.com"] {
        assert!(err.contains(part), "{part}: {err}");
    }
    // The warning goes to stderr: the JSON on stdout is the channel, as before.
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["kind"], "email");

    // With SMTP configured, or for another kind, nothing to warn about.
    let smtp = lifeline(&db).env("LIFELINE_SMTP_URL", "smtp://127.0.0.1:2525");
    let email = create_channel(&team, "email", "dev@example.com", &[]);
    let webhook = create_channel(&team, "webhook", "https://hooks.example.com/x", &[]);
    for out in [smtp.run(&email).await, run(&db, &webhook).await] {
        assert!(out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("warning"), "{err}");
    }
    let channels = "SELECT count(*) AS n FROM channels";
    assert_eq!(db.count(channels).await, 3);
}
