use std::time::Duration;

use lifeline_domain::NotificationKind;
use lifeline_notify::NotifySettings;

use crate::support::{PUBLIC_URL, SmtpMode, SmtpServer, alert, email, message, notifier, settings};

fn with_smtp(server: &SmtpServer) -> NotifySettings {
    NotifySettings {
        smtp_url: Some(server.url()),
        ..settings()
    }
}

#[tokio::test]
async fn alert_email_says_what_when_and_where() {
    let server = SmtpServer::start(SmtpMode::Accept).await;
    let notifier = notifier(with_smtp(&server));
    let msg = message(NotificationKind::Alert);

    let delivered = notifier
        .send(email(" ops@example.com "), &msg)
        .await
        .unwrap();
    assert_eq!(delivered.detail, "250 OK queued");

    let mails = server.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.mail_from, "alerts@lifeline.local");
    assert_eq!(mail.rcpt_to, vec!["ops@example.com".to_owned()]);
    assert_eq!(mail.header("To").unwrap(), "ops@example.com");
    assert_eq!(
        mail.header("From").unwrap(),
        "Lifeline <alerts@lifeline.local>"
    );
    assert_eq!(
        mail.subject().unwrap(),
        "[Lifeline] DOWN: nightly-backup (Acme)"
    );
    assert_eq!(
        mail.header("Message-ID").unwrap(),
        format!("<{}@lifeline.local>", msg.notification_id)
    );
    assert!(
        mail.header("Content-Type")
            .unwrap()
            .starts_with("text/plain")
    );
    // The same, as a mail reader understands it.
    let parsed = mail.message();
    let from = parsed.from().and_then(|a| a.first()).unwrap();
    assert_eq!(from.name(), Some("Lifeline"));
    assert_eq!(from.address(), Some("alerts@lifeline.local"));
    let expected_id = format!("{}@lifeline.local", msg.notification_id);
    assert_eq!(parsed.message_id(), Some(expected_id.as_str()));
    let body = mail.body();
    for want in [
        "Heartbeat \"nightly-backup\" of team Acme is DOWN.",
        "no ping for 1 h 10 min (interval 1 h + grace 10 min)",
        "Since:         2024-05-01 03:10:00 UTC",
        "Last ping:     2024-05-01 02:00:00 UTC",
        &format!(
            "Details: {PUBLIC_URL}/heartbeats/{}",
            msg.heartbeat_id.unwrap()
        ),
    ] {
        assert!(body.contains(want), "missing {want:?} in:\n{body}");
    }
}

#[tokio::test]
async fn recovery_email_with_no_ping_yet() {
    let server = SmtpServer::start(SmtpMode::Accept).await;
    let notifier = notifier(with_smtp(&server));
    let mut msg = message(NotificationKind::Recovery);
    msg.last_ping_at = None;
    msg.status = Some(lifeline_domain::Status::Up);

    notifier.send(email("ops@example.com"), &msg).await.unwrap();
    let mail = &server.mails()[0];
    assert_eq!(
        mail.subject().unwrap(),
        "[Lifeline] UP again: nightly-backup (Acme)"
    );
    assert!(
        mail.body().contains("Last ping:     never"),
        "{}",
        mail.body()
    );
}

#[tokio::test]
async fn smtp_not_configured_is_permanent() {
    let notifier = notifier(settings());
    let err = notifier
        .send(email("ops@example.com"), &message(NotificationKind::Test))
        .await
        .unwrap_err();
    assert!(err.permanent);
    assert_eq!(err.message, "SMTP is not configured (LIFELINE_SMTP_URL)");
}

#[tokio::test]
async fn invalid_address_is_permanent_and_sends_nothing() {
    let server = SmtpServer::start(SmtpMode::Accept).await;
    let notifier = notifier(with_smtp(&server));
    let err = notifier
        .send(email("not an address"), &message(NotificationKind::Alert))
        .await
        .unwrap_err();
    assert!(err.permanent, "{err:?}");
    assert!(err.message.contains("invalid email address"), "{err:?}");
    assert!(server.mails().is_empty());
}

#[tokio::test]
async fn rejected_recipient_is_permanent_deferred_is_not() {
    let server = SmtpServer::start(SmtpMode::RejectRecipient).await;
    let err = alert(with_smtp(&server), email("ops@example.com"))
        .await
        .unwrap_err();
    assert!(err.permanent, "{err:?}");
    assert!(err.message.contains("550"), "{err:?}");

    let server = SmtpServer::start(SmtpMode::DeferRecipient).await;
    let err = alert(with_smtp(&server), email("ops@example.com"))
        .await
        .unwrap_err();
    assert!(!err.permanent, "{err:?}");
    assert!(err.message.contains("451"), "{err:?}");
}

#[tokio::test]
async fn silent_server_times_out() {
    let server = SmtpServer::start(SmtpMode::Silent).await;
    let notifier = notifier(NotifySettings {
        timeout: Duration::from_millis(300),
        ..with_smtp(&server)
    });
    let started = std::time::Instant::now();
    let err = notifier
        .send(email("ops@example.com"), &message(NotificationKind::Alert))
        .await
        .unwrap_err();
    assert!(!err.permanent, "{err:?}");
    assert_eq!(err.message, "timed out after 300 ms");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn nothing_listening_is_retryable() {
    // A port that was just free: bind, remember, drop.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let notifier = notifier(NotifySettings {
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        ..settings()
    });
    let err = notifier
        .send(email("ops@example.com"), &message(NotificationKind::Alert))
        .await
        .unwrap_err();
    assert!(!err.permanent, "{err:?}");
    assert!(err.message.starts_with("SMTP"), "{err:?}");
}

#[tokio::test]
async fn names_cannot_inject_headers() {
    let server = SmtpServer::start(SmtpMode::Accept).await;
    let mut msg = message(NotificationKind::Alert);
    msg.heartbeat_name = "backup\r\nBcc: victim@example.com".into();
    msg.team_name = "Acme\nX-Evil: 1".into();
    notifier(with_smtp(&server))
        .send(email("ops@example.com"), &msg)
        .await
        .unwrap();
    let mail = &server.mails()[0];
    assert_eq!(mail.rcpt_to, vec!["ops@example.com".to_owned()]);
    assert_eq!(mail.header("Bcc"), None);
    assert_eq!(mail.header("X-Evil"), None);
    assert_eq!(
        mail.subject().unwrap(),
        "[Lifeline] DOWN: backup  Bcc: victim@example.com (Acme X-Evil: 1)"
    );
}

#[tokio::test]
async fn a_plain_email_goes_through_the_same_transport() {
    let server = SmtpServer::start(SmtpMode::Accept).await;
    let notifier = notifier(with_smtp(&server));
    assert_eq!(notifier.email_unavailable(), None);
    let delivered = notifier
        .send_email(
            "new@example.com",
            "Confirm\r\nBcc: victim@example.com",
            "Open https://x.example/channels/confirm/abc\n",
        )
        .await
        .unwrap();
    assert_eq!(delivered.detail, "250 OK queued");
    let mails = server.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].rcpt_to, vec!["new@example.com".to_owned()]);
    assert_eq!(
        mails[0].subject().unwrap(),
        "Confirm  Bcc: victim@example.com",
        "the subject stays one line"
    );
    assert!(mails[0].header("Message-ID").is_some());
    assert!(
        mails[0]
            .body()
            .contains("https://x.example/channels/confirm/abc")
    );
}

#[tokio::test]
async fn a_plain_email_without_smtp_says_why() {
    let notifier = notifier(settings());
    let why = notifier.email_unavailable().unwrap();
    assert!(why.contains("LIFELINE_SMTP_URL"), "{why}");
    let err = notifier
        .send_email("new@example.com", "Confirm", "body")
        .await
        .unwrap_err();
    assert!(err.permanent);
    assert_eq!(err.message, why);
}
