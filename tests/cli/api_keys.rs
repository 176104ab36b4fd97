//! `lifeline admin api-key create|revoke`: keys made by the operator work against the management
//! API of a running `lifeline web`.

use lifeline_testkit::{Role, TestDb};
use reqwest::StatusCode;
use serde_json::json;

use crate::admin::{json, run};
use crate::{create_team, lifeline};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_key_works_against_the_api_until_revoked() {
    let db = TestDb::new().await;
    let team = json(&db, &create_team("Ops", "free")).await;
    let team_id = team["id"].as_str().unwrap();

    let made = json(
        &db,
        &[
            "admin", "api-key", "create", "--team", team_id, "--name", "deploy", "--json",
        ],
    )
    .await;
    let id = made["id"].as_str().unwrap().to_owned();
    let key = made["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("ll_"), "{made}");
    assert_eq!(made["team_id"], team_id);
    assert_eq!(made["read_only"], false);
    let read_only = json(
        &db,
        &[
            "admin",
            "api-key",
            "create",
            "--team",
            team_id,
            "--read-only",
            "--json",
        ],
    )
    .await;
    assert_eq!(read_only["read_only"], true);
    let viewer_key = read_only["key"].as_str().unwrap().to_owned();

    let web = lifeline(&db).start(Role::Web).await;
    let http = reqwest::Client::new();
    let api = |path: &str| format!("{}/api/v1{path}", web.web_base());
    let created = http
        .post(api("/heartbeats"))
        .bearer_auth(&key)
        .json(&json!({"name": "backup", "interval": 3600, "grace": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let hb: serde_json::Value = created.json().await.unwrap();
    assert!(
        hb["ping_url"]
            .as_str()
            .unwrap()
            .starts_with("https://hb.example.com/api/v1/hb/"),
        "{hb}"
    );
    let listed = http
        .get(api("/heartbeats"))
        .bearer_auth(&viewer_key)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    let listed: serde_json::Value = listed.json().await.unwrap();
    assert_eq!(listed["heartbeats"][0]["id"], hb["id"]);
    let refused = http
        .post(api("/heartbeats"))
        .bearer_auth(&viewer_key)
        .json(&json!({"name": "x", "interval": 60, "grace": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let revoked = json(&db, &["admin", "api-key", "revoke", &id, "--json"]).await;
    assert_eq!(revoked["id"], id.as_str());
    assert!(revoked["revoked_at"].is_string());
    let after = http
        .get(api("/heartbeats"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    let still = http
        .get(api("/heartbeats"))
        .bearer_auth(&viewer_key)
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), StatusCode::OK, "only the revoked key stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_key_commands_explain_what_is_wrong() {
    let db = TestDb::new().await;
    let unknown = "01a20950-0912-71d0-b8d6-4183bfa374ad";
    let team = json(&db, &create_team("Ops", "free")).await;
    let team_id = team["id"].as_str().unwrap();
    for (args, message) in [
        (
            vec!["admin", "api-key", "create", "--team", unknown],
            "not found",
        ),
        (
            vec!["admin", "api-key", "create", "--team", "nope"],
            "--team",
        ),
        (
            vec![
                "admin", "api-key", "create", "--team", team_id, "--name", " ",
            ],
            "name",
        ),
        (vec!["admin", "api-key", "revoke", unknown], "not found"),
        (vec!["admin", "api-key", "revoke", "nope"], "ID"),
    ] {
        let out = run(&db, &args).await;
        assert!(!out.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "{args:?} printed to stdout on failure"
        );
    }
    let human = run(&db, &["admin", "api-key", "create", "--team", team_id]).await;
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("key (shown once): ll_"), "{text}");
}
