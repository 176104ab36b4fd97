use lifeline_domain::NotificationKind;
use lifeline_notify::Target;

use crate::support::{HttpServer, PUBLIC_URL, Reply, alert, message, notifier, settings};

#[tokio::test]
async fn slack_gets_a_text_with_name_team_reason_and_link() {
    let server = HttpServer::start(Reply::Status(200, "ok")).await;
    let url = server.url("/services/T000/B000/XXXX");
    let msg = message(NotificationKind::Alert);
    let delivered = notifier(settings())
        .send(Target::Slack { url: &url }, &msg)
        .await
        .unwrap();
    assert_eq!(delivered.detail, "HTTP 200");

    let req = &server.requests()[0];
    assert_eq!(req.path, "/services/T000/B000/XXXX");
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert!(req.header("lifeline-signature").is_none());
    let body = req.json();
    let object = body.as_object().unwrap();
    assert_eq!(object.len(), 1, "{body}");
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with("*[Lifeline] DOWN: nightly-backup (Acme)*\n"),
        "{text}"
    );
    assert!(text.contains(&msg.reason), "{text}");
    assert!(text.contains("Last ping:"), "{text}");
    assert!(
        text.contains(&format!(
            "{PUBLIC_URL}/heartbeats/{}",
            msg.heartbeat_id.unwrap()
        )),
        "{text}"
    );
}

#[tokio::test]
async fn slack_error_is_reported() {
    let server = HttpServer::start(Reply::Status(404, "no_service")).await;
    let url = server.url("/services/gone");
    let err = alert(settings(), Target::Slack { url: &url })
        .await
        .unwrap_err();
    assert!(err.permanent);
    assert_eq!(err.message, "HTTP 404");
    assert_eq!(err.detail.as_deref(), Some("HTTP 404: no_service"));
}
