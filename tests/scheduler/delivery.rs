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

/// An email address that has not confirmed (a channel made from the dashboard or the API) is
/// skipped when an incident queues its alerts and recovery notices, while a confirmed channel of
/// the same heartbeat gets them; once it confirms, it gets the next incident's alert. Anything
/// queued for it while unconfirmed (its address changed after an alert was queued) fails
/// instead of reaching the new address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unconfirmed_email_address_gets_nothing_until_it_confirms() {
    use lifeline_domain::ChannelKind;
    use lifeline_store::{channels, heartbeats};

    let smtp = SmtpServer::start(SmtpMode::Accept).await;
    let mut app = TestApp::start().await;
    let mut settings = app.scheduler_settings();
    settings.notify.smtp_url = Some(smtp.url());
    app.start_scheduler(settings).await;
    let scope = app.team(Plan::Free).await;
    let hb = app.heartbeat(&scope, 1, 0).await;
    let hook = HttpServer::ok().await;
    let confirmed = app.webhook(&scope, &hb, &hook.url("/hook")).await;
    let hash = [7u8; 32];
    let waiting = {
        let mut conn = app.conn().await;
        let channel = channels::create(
            &mut conn,
            &scope,
            channels::NewChannel {
                kind: ChannelKind::Email,
                name: "stranger".into(),
                target: "stranger@example.com".into(),
                secret: None,
                confirm_token_hash: Some(hash),
            },
        )
        .await
        .unwrap();
        heartbeats::attach(&mut conn, &scope, hb.id, channel.id)
            .await
            .unwrap();
        channel.id
    };
    let of = |channel, kind: &str| {
        format!(
            "SELECT count(*) AS n FROM notifications WHERE channel_id = '{channel}' \
             AND kind = '{kind}'"
        )
    };

    // Queued by hand for the unconfirmed address: refused at send time.
    app.sql(&format!(
        "INSERT INTO notifications (id, team_id, channel_id, kind) \
         VALUES (gen_random_uuid(), '{}', '{waiting}', 'test')",
        scope.team_id()
    ))
    .await;
    let refused = "SELECT count(*) AS n FROM notifications WHERE status = 'failed' \
                   AND last_error LIKE '%has not confirmed%'";
    assert_eq!(app.wait_count(refused, 1, PATIENCE).await, 1);

    // Down, then up: the webhook hears both, the unconfirmed address nothing.
    assert_eq!(app.get_status(app.url(&hb)).await, 200);
    assert_eq!(
        app.wait_count(&of(confirmed, "alert"), 1, PATIENCE).await,
        1
    );
    assert_eq!(app.get_status(app.url(&hb)).await, 200);
    assert_eq!(
        app.wait_count(&of(confirmed, "recovery"), 1, PATIENCE)
            .await,
        1
    );
    assert_eq!(app.count(&of(waiting, "alert")).await, 0);
    assert_eq!(app.count(&of(waiting, "recovery")).await, 0);
    assert!(
        hook.wait_for(2, PATIENCE).await.len() >= 2,
        "the confirmed channel got its alert and recovery"
    );

    // Confirmed: an incident that opens from now on alerts it too.
    channels::confirm(&mut app.conn().await, &hash)
        .await
        .unwrap();
    assert_eq!(app.get_status(app.url(&hb)).await, 200);
    let alerted = lifeline_testkit::wait_until(PATIENCE, async || {
        app.count(&of(waiting, "alert")).await >= 1
    })
    .await;
    assert!(alerted, "the confirmed address gets the next alert");
    let mails =
        lifeline_testkit::wait_for(PATIENCE, async || smtp.mails(), |m| !m.is_empty()).await;
    assert!(
        mails.iter().all(|m| m
            .subject()
            .is_some_and(|s| s.contains("DOWN") || s.contains("UP"))),
        "only alerts after the confirmation, never the refused test"
    );
    app.stop().await;
}
