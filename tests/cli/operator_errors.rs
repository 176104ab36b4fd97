//! Errors an operator meets, each naming the fix: a setting with a wrong value stops `lifeline
//! <role>` with status 2 and says what is accepted; an unreachable Postgres says where and why,
//! never the password; a private target says which setting allows it, in the words of the
//! channel's kind.

use std::process::Output;

use lifeline_testkit::{TestDb, free_port};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::{create_channel, create_team, lifeline};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_setting_stops_every_role_with_status_2_and_the_accepted_values() {
    let db = TestDb::new().await;
    let cases = [
        ("LIFELINE_LOG_FORMAT", "xml", "`text` or `json`"),
        ("LIFELINE_LOG", "bogus==", "target=level"),
        (
            "LIFELINE_SMTP_URL",
            "mail.example.com",
            "smtps://HOST[:PORT]",
        ),
    ];
    for role in ["scheduler", "ingest", "all"] {
        for (name, value, accepted) in cases {
            let out = lifeline(&db).env(name, value).run(&[role]).await;
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{role} {name}={value}: {err}");
            assert!(
                err.contains(&format!("setting {name}: ")),
                "{role} {name}={value}: {err}"
            );
            assert!(err.contains(value), "{role} {name}={value}: {err}");
            assert!(err.contains(accepted), "{role} {name}={value}: {err}");
        }
    }
    // The accepted values are accepted.
    let out = lifeline(&db)
        .env("LIFELINE_LOG_FORMAT", "TEXT")
        .env("LIFELINE_LOG", "warn,lifeline_scheduler=info")
        .run(&["migrate"])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_postgres_is_named_with_its_cause_and_never_the_password() {
    let db = TestDb::new().await;
    // Nothing listens on a free port.
    let port = free_port();
    let err = migrate_fails(&db, "hunter2-secret", port).await;
    assert!(err.contains("connection refused"), "{err}");
}

/// `lifeline migrate` against Postgres on 127.0.0.1:`port` with `password` (which contains
/// `hunter2`): it fails, names the server, never prints the password or a part of it; returns
/// what it said.
async fn migrate_fails(db: &TestDb, password: &str, port: u16) -> String {
    let url = format!("postgres://lifeline:{password}@127.0.0.1:{port}/lifeline");
    let out = lifeline(db)
        .env("DATABASE_URL", &url)
        .run(&["migrate"])
        .await;
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains(&format!("cannot connect to Postgres at 127.0.0.1:{port}")),
        "{err}"
    );
    assert!(
        !err.contains(password) && !err.contains("hunter2"),
        "the password never prints: {err}"
    );
    err
}

/// A server speaking just enough of Postgres's protocol to ask for a password and refuse it, as a
/// server with password authentication does (the local test server trusts its clients, so a
/// wrong password would pass there).
async fn refusing_postgres() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                // The startup message (an SSL request first would be answered "no").
                loop {
                    let len = socket.read_i32().await.ok()?;
                    let mut body = vec![0; usize::try_from(len).ok()?.checked_sub(4)?];
                    socket.read_exact(&mut body).await.ok()?;
                    if body.get(..4) == Some(&80_877_103_i32.to_be_bytes()[..]) {
                        socket.write_all(b"N").await.ok()?;
                        continue;
                    }
                    break;
                }
                // AuthenticationCleartextPassword, then the client's password message.
                socket
                    .write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3])
                    .await
                    .ok()?;
                let _tag = socket.read_u8().await.ok()?;
                let len = socket.read_i32().await.ok()?;
                let mut password = vec![0; usize::try_from(len).ok()?.checked_sub(4)?];
                socket.read_exact(&mut password).await.ok()?;
                let mut fields = Vec::new();
                for (code, value) in [
                    (b'S', "FATAL"),
                    (b'V', "FATAL"),
                    (b'C', "28P01"),
                    (b'M', "password authentication failed for user \"lifeline\""),
                ] {
                    fields.push(code);
                    fields.extend_from_slice(value.as_bytes());
                    fields.push(0);
                }
                fields.push(0);
                let mut reply = vec![b'E'];
                reply.extend_from_slice(&(i32::try_from(fields.len()).ok()? + 4).to_be_bytes());
                reply.extend_from_slice(&fields);
                socket.write_all(&reply).await.ok()?;
                Some(())
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_an_authentication_failure_that_does_not_print_it() {
    let db = TestDb::new().await;
    let port = refusing_postgres().await;
    let err = migrate_fails(&db, "wrong-hunter2", port).await;
    assert!(err.contains("authentication failed"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_target_names_the_setting_in_the_words_of_its_kind() {
    let db = TestDb::new().await;
    let out = lifeline(&db).run(&create_team("Ops", "free")).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let team: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let team = team["id"].as_str().unwrap();
    for (kind, words) in [("slack", "Slack channels may"), ("webhook", "webhooks may")] {
        let args = create_channel(team, kind, "http://127.0.0.1:9000/hook", &[]);
        let out = lifeline(&db).run(&args).await;
        let err = stderr(&out);
        assert!(!out.status.success(), "{kind}: {err}");
        assert!(err.contains(words), "{kind}: {err}");
        assert!(
            err.contains("LIFELINE_ALLOW_PRIVATE_WEBHOOKS=1"),
            "{kind}: {err}"
        );
        if kind == "slack" {
            assert!(
                !err.contains("webhook"),
                "a Slack channel is not a webhook: {err}"
            );
        }
    }
}
