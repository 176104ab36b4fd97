//! Delivery: retries with backoff, giving up with the last error, email over a real local SMTP
//! server, and every attempt recorded.

use lifeline_domain::Plan;
use lifeline_testkit::{HttpServer, PATIENCE, Reply, SmtpMode, SmtpServer, TestApp};

use crate::settled;

fn attempts_of(kind: &str) -> String {
    format!(
        "SELECT count(*) AS n FROM notification_attempts a JOIN notifications n \
         ON n.id = a.notification_id WHERE n.kind = 'alert' AND a.outcome = '{kind}'"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_failing_twice_gets_exactly_one_delivery() {
    let app = TestApp::with_scheduler().await;
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, 1, 0).await;
    let hook = HttpServer::scripted(vec![Reply::Status(500, ""), Reply::Status(503, "")]).await;
    app.webhook(&scope, &hb, &hook.url("/hook")).await;
    assert_eq!(app.get_status(app.url(&hb)).await, 200);

    let sent = "SELECT count(*) AS n FROM notifications WHERE status = 'sent' AND attempts = 3";
    assert_eq!(app.wait_count(sent, 1, PATIENCE).await, 1);
    settled(&app).await;
    let all = hook.requests();
    assert_eq!(all.len(), 3, "two failures, one success, nothing more");
    assert_eq!(hook.delivered().len(), 1);
    let ids: Vec<_> = all
        .iter()
        .map(|r| r.header("lifeline-delivery").unwrap().to_owned())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "retries carry the same delivery id"
    );
    assert!(all[1].at > all[0].at && all[2].at > all[1].at);
    assert_eq!(app.count(&attempts_of("failed")).await, 2);
    assert_eq!(app.count(&attempts_of("sent")).await, 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_that_always_fails_ends_failed_with_its_error() {
    let mut app = TestApp::start().await;
    let mut settings = app.scheduler_settings();
    settings.max_attempts = 3;
    app.start_scheduler(settings).await;
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, 1, 0).await;
    let hook = HttpServer::scripted(vec![Reply::Status(500, ""); 50]).await;
    app.webhook(&scope, &hb, &hook.url("/hook")).await;
    assert_eq!(app.get_status(app.url(&hb)).await, 200);

    let failed = "SELECT count(*) AS n FROM notifications \
                  WHERE status = 'failed' AND attempts = 3 AND last_error LIKE '%HTTP 500%'";
    assert_eq!(app.wait_count(failed, 1, PATIENCE).await, 1);
    settled(&app).await;
    assert_eq!(hook.requests().len(), 3, "no attempt after the limit");
    assert_eq!(app.count(&attempts_of("failed")).await, 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_alerts_reach_the_smtp_server() {
    let smtp = SmtpServer::start(SmtpMode::Accept).await;
    let mut app = TestApp::start().await;
    let mut settings = app.scheduler_settings();
    settings.notify.smtp_url = Some(smtp.url());
    app.start_scheduler(settings).await;
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, 1, 0).await;
    app.channel(&scope, &hb, "email", "ops@example.com", None)
        .await;
    assert_eq!(app.get_status(app.url(&hb)).await, 200);

    let sent = "SELECT count(*) AS n FROM notifications WHERE status = 'sent'";
    assert_eq!(app.wait_count(sent, 1, PATIENCE).await, 1);
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].rcpt_to, ["ops@example.com"]);
    let subject = mails[0].subject().unwrap();
    assert!(
        subject.contains("DOWN") && subject.contains("job") && subject.contains("Team"),
        "{subject}"
    );
    let body = mails[0].body();
    assert!(body.contains(&format!("/heartbeats/{}", hb.id)), "{body}");
    assert!(body.contains("no ping since"), "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_without_smtp_fails_at_once_and_says_why() {
    let app = TestApp::with_scheduler().await;
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, 1, 0).await;
    app.channel(&scope, &hb, "email", "ops@example.com", None)
        .await;
    assert_eq!(app.get_status(app.url(&hb)).await, 200);
    let failed = "SELECT count(*) AS n FROM notifications \
                  WHERE status = 'failed' AND attempts = 1 AND last_error LIKE '%LIFELINE_SMTP_URL%'";
    assert_eq!(app.wait_count(failed, 1, PATIENCE).await, 1);
    app.stop().await;
}

/// A channel kind this code does not know (a newer schema, a hand edit) is never guessed at:
/// its notification fails for good, naming the kind, and nothing is sent anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_channel_kind_fails_loudly_instead_of_falling_back() {
    let app = TestApp::with_scheduler().await;
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, 1, 0).await;
    let hook = HttpServer::ok().await;
    let channel = app.webhook(&scope, &hb, &hook.url("/hook")).await;
    app.sql(&format!(
        "ALTER TABLE channels DROP CONSTRAINT channels_kind_check; \
         UPDATE channels SET kind = 'pager' WHERE id = '{channel}'"
    ))
    .await;
    assert_eq!(app.get_status(app.url(&hb)).await, 200);
    let failed = "SELECT count(*) AS n FROM notifications WHERE status = 'failed' \
                  AND attempts = 1 AND last_error LIKE '%unknown channel kind \"pager\"%'";
    assert_eq!(app.wait_count(failed, 1, PATIENCE).await, 1);
    settled(&app).await;
    assert_eq!(
        hook.requests().len(),
        0,
        "not sent as a webhook, nor at all"
    );
    app.stop().await;
}
