use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use lifeline_domain::NotificationKind;
use lifeline_notify::{NotifySettings, Target, new_webhook_secret, sign};
use sha2::Sha256;

use crate::support::{HttpServer, PUBLIC_URL, Reply, alert, message, notifier, settings, webhook};

/// The receiver's side of the contract, written from the docs with `hmac` directly.
fn verify(secret: &str, body: &[u8], header: &str) -> bool {
    let Some(Ok(expected)) = header.strip_prefix("sha256=").map(hex::decode) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

#[test]
fn sign_matches_rfc_4231_case_2() {
    assert_eq!(
        sign("Jefe", b"what do ya want for nothing?"),
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert!(verify(
        "Jefe",
        b"what do ya want for nothing?",
        &sign("Jefe", b"what do ya want for nothing?")
    ));
    assert!(!verify(
        "Jefe",
        b"what do ya want for nothing!",
        &sign("Jefe", b"what do ya want for nothing?")
    ));
}

#[tokio::test]
async fn delivery_is_signed_and_carries_the_contract() {
    let server = HttpServer::start(Reply::Status(200, "ok")).await;
    let notifier = notifier(settings());
    let secret = new_webhook_secret();
    let msg = message(NotificationKind::Alert);
    let url = server.url("/hooks/lifeline?source=test");

    let before = Utc::now();
    let delivered = notifier
        .send(
            Target::Webhook {
                url: &url,
                secret: &secret,
            },
            &msg,
        )
        .await
        .unwrap();
    assert_eq!(delivered.detail, "HTTP 200");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/hooks/lifeline?source=test");
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("user-agent"), Some("Lifeline-Webhooks/1"));
    assert_eq!(req.header("lifeline-event"), Some("heartbeat.down"));
    let delivery = msg.notification_id.to_string();
    assert_eq!(req.header("lifeline-delivery"), Some(delivery.as_str()));
    let signature = req.header("lifeline-signature").unwrap();
    assert!(
        verify(&secret, &req.body, signature),
        "signature does not verify"
    );
    assert!(!verify("whsec_other", &req.body, signature));
    assert_eq!(signature, sign(&secret, &req.body));

    let body = req.json();
    assert_eq!(body["type"], "heartbeat.down");
    assert_eq!(body["delivery_id"], delivery.as_str());
    let sent_at: DateTime<Utc> = body["sent_at"].as_str().unwrap().parse().unwrap();
    assert!(sent_at >= before - chrono::Duration::seconds(1) && sent_at <= Utc::now());
    assert_eq!(body["team"]["id"], msg.team_id.to_string().as_str());
    assert_eq!(body["team"]["name"], "Acme");
    assert_eq!(
        body["heartbeat"]["id"],
        msg.heartbeat_id.unwrap().to_string().as_str()
    );
    assert_eq!(body["heartbeat"]["name"], "nightly-backup");
    assert_eq!(body["heartbeat"]["status"], "down");
    assert_eq!(body["heartbeat"]["last_ping_at"], "2024-05-01T02:00:00Z");
    assert_eq!(
        body["heartbeat"]["url"],
        format!("{PUBLIC_URL}/heartbeats/{}", msg.heartbeat_id.unwrap()).as_str()
    );
    assert_eq!(
        body["incident"]["id"],
        msg.incident_id.unwrap().to_string().as_str()
    );
    assert_eq!(body["incident"]["reason"], msg.reason.as_str());
    assert_eq!(body["incident"]["since"], "2024-05-01T03:10:00Z");
    assert_eq!(body["incident"]["deadline"], "2024-05-01T03:10:00Z");
}

#[tokio::test]
async fn retries_carry_the_same_delivery_id() {
    let server = HttpServer::start(Reply::Status(204, "")).await;
    let notifier = notifier(settings());
    let msg = message(NotificationKind::Recovery);
    let url = server.url("/");
    for _ in 0..2 {
        let d = notifier.send(webhook(&url), &msg).await.unwrap();
        assert_eq!(d.detail, "HTTP 204");
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let ids: Vec<_> = requests
        .iter()
        .map(|r| r.header("lifeline-delivery"))
        .collect();
    assert_eq!(ids[0], Some(msg.notification_id.to_string().as_str()));
    assert_eq!(ids[0], ids[1]);
    assert_eq!(requests[0].header("lifeline-event"), Some("heartbeat.up"));
}

#[tokio::test]
async fn server_error_is_retryable_and_its_body_is_for_the_operator_only() {
    let server = HttpServer::start(Reply::Status(500, "database on fire\nsee logs")).await;
    let url = server.url("/");
    let err = alert(settings(), webhook(&url)).await.unwrap_err();
    assert!(!err.permanent, "{err:?}");
    assert_eq!(err.message, "HTTP 500");
    assert_eq!(
        err.detail.as_deref(),
        Some("HTTP 500: database on fire see logs")
    );
}

#[tokio::test]
async fn long_error_bodies_are_cut() {
    let long: &'static str = Box::leak("x".repeat(5000).into_boxed_str());
    let server = HttpServer::start(Reply::Status(503, long)).await;
    let url = server.url("/");
    let err = alert(settings(), webhook(&url)).await.unwrap_err();
    assert!(!err.permanent);
    assert_eq!(err.message, "HTTP 503");
    assert_eq!(
        err.detail.unwrap(),
        format!("HTTP 503: {}", "x".repeat(200))
    );
}

#[tokio::test]
async fn client_errors_are_permanent_except_408_and_429() {
    for (status, permanent) in [
        (400, true),
        (404, true),
        (410, true),
        (408, false),
        (429, false),
    ] {
        let server = HttpServer::start(Reply::Status(status, "")).await;
        let url = server.url("/");
        let err = alert(settings(), webhook(&url)).await.unwrap_err();
        assert_eq!(err.permanent, permanent, "{status}: {err:?}");
        assert_eq!(err.message, format!("HTTP {status}"));
    }
}

#[tokio::test]
async fn slow_receiver_times_out() {
    let server = HttpServer::start(Reply::Slow(Duration::from_secs(3))).await;
    let url = server.url("/");
    let notifier = notifier(NotifySettings {
        timeout: Duration::from_millis(300),
        ..settings()
    });
    let started = std::time::Instant::now();
    let err = notifier
        .send(webhook(&url), &message(NotificationKind::Alert))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(!err.permanent, "{err:?}");
    assert_eq!(err.message, "timed out after 300 ms");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let elsewhere = HttpServer::start(Reply::Status(200, "")).await;
    let server = HttpServer::start(Reply::Redirect(302, elsewhere.url("/stolen"))).await;
    let url = server.url("/");
    let err = alert(settings(), webhook(&url)).await.unwrap_err();
    assert_eq!(err.message, "HTTP 302 redirect not followed");
    assert_eq!(server.requests().len(), 1);
    assert!(elsewhere.requests().is_empty());
}

#[tokio::test]
async fn connection_refused_is_retryable() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", free.local_addr().unwrap());
    drop(free);
    let err = alert(settings(), webhook(&url)).await.unwrap_err();
    assert!(!err.permanent, "{err:?}");
    // Whether a port is closed or a host unknown is for the operator's logs only.
    assert_eq!(err.message, "connection failed", "{err:?}");
    assert!(
        err.detail
            .as_deref()
            .is_some_and(|d| d.len() > "connection failed: ".len()),
        "{err:?}"
    );
}

#[tokio::test]
async fn test_event() {
    let server = HttpServer::start(Reply::Status(200, "")).await;
    let url = server.url("/");
    let mut msg = message(NotificationKind::Test);
    msg.incident_id = None;
    notifier(settings())
        .send(webhook(&url), &msg)
        .await
        .unwrap();
    let req = &server.requests()[0];
    assert_eq!(req.header("lifeline-event"), Some("test"));
    assert_eq!(req.json()["type"], "test");
    assert!(req.json()["incident"].is_null());
}
