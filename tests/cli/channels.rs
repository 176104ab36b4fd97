//! `lifeline admin channel …` and the channel options of `heartbeat create|attach|stats`.

use chrono::Utc;
use lifeline_store::deadlines;
use lifeline_store::testing::TestDb;

use crate::admin::{json, lifeline, run};

async fn team(db: &TestDb, plan: &str) -> String {
    let team = json(
        db,
        &[
            "admin", "team", "create", "--name", "Ops", "--plan", plan, "--json",
        ],
    )
    .await;
    team["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_create_channels_and_attach_them() {
    let db = TestDb::new().await;
    let team = team(&db, "standard").await;
    let hook = json(
        &db,
        &[
            "admin",
            "channel",
            "create",
            "--team",
            &team,
            "--kind",
            "webhook",
            "--target",
            "https://hooks.example.com/lifeline",
            "--json",
        ],
    )
    .await;
    let hook_id = hook["id"].as_str().unwrap().to_owned();
    assert_eq!(hook["kind"], "webhook");
    assert!(
        hook["secret"].as_str().unwrap().starts_with("whsec_"),
        "{hook}"
    );
    let mail = json(
        &db,
        &[
            "admin",
            "channel",
            "create",
            "--team",
            &team,
            "--kind",
            "email",
            "--target",
            "ops@example.com",
            "--json",
        ],
    )
    .await;
    let mail_id = mail["id"].as_str().unwrap().to_owned();
    assert!(mail.get("secret").is_none_or(|s| s.is_null()), "{mail}");

    let hb = json(
        &db,
        &[
            "admin",
            "heartbeat",
            "create",
            "--team",
            &team,
            "--name",
            "export",
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
        ],
    )
    .await;
    let hb_id = hb["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            hb["max_runtime_secs"].as_i64(),
            hb["progress_timeout_secs"].as_i64()
        ),
        (Some(600), Some(60))
    );
    let attached = json(
        &db,
        &[
            "admin",
            "heartbeat",
            "attach",
            &hb_id,
            "--channel",
            &mail_id,
            "--json",
        ],
    )
    .await;
    assert_eq!(attached["channels"].as_array().unwrap().len(), 2);

    let stats = json(&db, &["admin", "heartbeat", "stats", &hb_id, "--json"]).await;
    assert!(stats["open_incident"].is_null());
    assert!(stats["last_alert"].is_null());
    assert_eq!(stats["channels"].as_array().unwrap().len(), 2);

    // It goes down: stats show the open incident and the alert queued for it.
    let mut conn = db.conn().await;
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut conn,
        &format!(
            "UPDATE heartbeats SET status = 'up', last_ping_at = now() - interval '2 minutes', \
             due_at = now() - interval '1 minute', alert_at = now() - interval '1 minute', \
             next_check_at = now() - interval '1 minute' WHERE id = '{hb_id}'"
        ),
    )
    .await
    .unwrap();
    let now = Utc::now();
    let pass = deadlines::process_due(&mut conn, now, now, 10)
        .await
        .unwrap();
    assert_eq!((pass.down, pass.notifications), (1, 2));
    let stats = json(&db, &["admin", "heartbeat", "stats", &hb_id, "--json"]).await;
    assert_eq!(stats["status"], "down");
    assert!(
        stats["open_incident"]["reason"]
            .as_str()
            .unwrap()
            .contains("no ping since"),
        "{stats}"
    );
    assert_eq!(stats["last_alert"]["status"], "pending");
    assert_eq!(stats["last_alert"]["kind"], "alert");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_mistakes_are_refused_with_a_clear_message() {
    let db = TestDb::new().await;
    let team = team(&db, "free").await;
    let other = team_of_another(&db).await;
    let cases: [(&[&str], &str); 4] = [
        (&["--kind", "pager", "--target", "x"], "--kind"),
        (
            &["--kind", "email", "--target", "not an address"],
            "--target",
        ),
        (
            &["--kind", "webhook", "--target", "ftp://example.com/x"],
            "--target",
        ),
        (
            &[
                "--kind",
                "webhook",
                "--target",
                "http://127.0.0.1:9000/internal",
            ],
            "private",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["admin", "channel", "create", "--team", &team];
        all.extend_from_slice(args);
        let out = run(&db, &all).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    // The operator may allow private targets (the tests' receivers live on 127.0.0.1).
    let out = lifeline(&db)
        .env("LIFELINE_ALLOW_PRIVATE_WEBHOOKS", "1")
        .args([
            "admin",
            "channel",
            "create",
            "--team",
            &team,
            "--kind",
            "webhook",
            "--target",
            "http://127.0.0.1:9000/internal",
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Another team's channel cannot be attached.
    let hb = json(
        &db,
        &[
            "admin",
            "heartbeat",
            "create",
            "--team",
            &team,
            "--name",
            "job",
            "--json",
        ],
    )
    .await;
    let hb_id = hb["id"].as_str().unwrap();
    let out = run(
        &db,
        &["admin", "heartbeat", "attach", hb_id, "--channel", &other],
    )
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such channel"));
    let out = run(
        &db,
        &[
            "admin",
            "heartbeat",
            "create",
            "--team",
            &team,
            "--name",
            "x",
            "--channel",
            &other,
        ],
    )
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such channel"));
}

/// A channel of a different team.
async fn team_of_another(db: &TestDb) -> String {
    let team = team(db, "free").await;
    let channel = json(
        db,
        &[
            "admin",
            "channel",
            "create",
            "--team",
            &team,
            "--kind",
            "email",
            "--target",
            "them@example.com",
            "--json",
        ],
    )
    .await;
    channel["id"].as_str().unwrap().to_owned()
}
